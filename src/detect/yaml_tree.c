/*
 * detect/yaml_tree.c: one YAML document (libyaml's event parser) as a small
 * tree with line numbers. Refused: aliases and anchors (a rule needs none,
 * and aliases let a small file expand without bound), more than one
 * document, nesting deeper than YAML_DEPTH_MAX, more than YAML_NODES_MAX
 * nodes, duplicate map keys, and keys that are not scalars.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "detect_internal.h"

#define YAML_DEPTH_MAX 32
#define YAML_NODES_MAX 100000

void
ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			free(n->keys[i]);
		ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->text);
	free(n);
}

const struct ynode *
ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->kind != Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	return n->kind == Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->text, "~") == 0 || strcmp(n->text, "null") == 0 ||
		strcmp(n->text, "Null") == 0 || strcmp(n->text, "NULL") == 0);
}

struct ybuild {
	yaml_parser_t p;
	const char *name;
	size_t nodes;
	struct bw_err *err;
};

static int
fail_at(struct ybuild *b, size_t line0, const char *what)
{
	return bw_err_set(b->err, BW_EINVAL, "%s:%zu: %s", b->name, line0 + 1, what);
}

static int
next_event(struct ybuild *b, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&b->p, ev)) {
		return bw_err_set(b->err, BW_EINVAL, "%s:%zu: YAML: %s%s%s", b->name,
				  (size_t)(b->p.problem_mark.line + 1), b->p.problem ? b->p.problem : "syntax error",
				  b->p.context ? " " : "", b->p.context ? b->p.context : "");
	}
	if (ev->type == YAML_ALIAS_EVENT ||
	    ((ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
	     (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor) ||
	     (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor))) {
		size_t line = ev->start_mark.line;
		yaml_event_delete(ev);
		return fail_at(b, line, "YAML anchors and aliases are not supported in rules");
	}
	return 0;
}

static struct ynode *
node_new(struct ybuild *b, enum ykind kind, size_t line0)
{
	struct ynode *n;

	if (++b->nodes > YAML_NODES_MAX) {
		fail_at(b, line0, "too many YAML nodes for a rule");
		return NULL;
	}
	if ((n = calloc(1, sizeof *n)) == NULL) {
		bw_err_set(b->err, BW_ENOMEM, "out of memory");
		return NULL;
	}
	n->kind = kind;
	n->line = (int)line0 + 1;
	return n;
}

static int
add_item(struct ynode *n, char *key, struct ynode *item)
{
	struct ynode **items = realloc(n->items, (n->n + 1) * sizeof *items);

	if (items == NULL)
		return BW_ENOMEM;
	n->items = items;
	if (n->kind == Y_MAP) {
		char **keys = realloc(n->keys, (n->n + 1) * sizeof *keys);
		if (keys == NULL)
			return BW_ENOMEM;
		n->keys = keys;
		n->keys[n->n] = key;
	}
	n->items[n->n++] = item;
	return 0;
}

/* Builds the node that ev starts (ev is consumed). */
static int
build(struct ybuild *b, yaml_event_t *ev, int depth, struct ynode **out)
{
	struct ynode *n = NULL;
	yaml_event_t e;
	int r;

	*out = NULL;
	if (depth > YAML_DEPTH_MAX) {
		size_t line = ev->start_mark.line;
		yaml_event_delete(ev);
		return fail_at(b, line, "YAML nested too deeply for a rule");
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if ((n = node_new(b, Y_SCALAR, ev->start_mark.line)) == NULL)
			break;
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		if ((n->text = malloc(n->len + 1)) == NULL) {
			ynode_free(n);
			n = NULL;
			bw_err_set(b->err, BW_ENOMEM, "out of memory");
			break;
		}
		memcpy(n->text, ev->data.scalar.value, n->len);
		n->text[n->len] = '\0';
		if (memchr(n->text, '\0', n->len) != NULL) {
			fail_at(b, ev->start_mark.line, "a NUL byte in a YAML value");
			ynode_free(n);
			n = NULL;
		}
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		if ((n = node_new(b, map ? Y_MAP : Y_LIST, ev->start_mark.line)) == NULL)
			break;
		for (;;) {
			struct ynode *key = NULL, *val = NULL;
			if ((r = next_event(b, &e)) != 0)
				goto fail;
			if (e.type == (map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
				yaml_event_delete(&e);
				break;
			}
			if (map) {
				size_t line = e.start_mark.line;
				if (e.type != YAML_SCALAR_EVENT) {
					yaml_event_delete(&e);
					fail_at(b, line, "a map key that is not a plain value");
					goto fail;
				}
				if ((r = build(b, &e, depth + 1, &key)) != 0)
					goto fail;
				if (ynode_get(n, key->text) != NULL) {
					char msg[160];
					snprintf(msg, sizeof msg, "duplicate key '%.100s'", key->text);
					ynode_free(key);
					fail_at(b, line, msg);
					goto fail;
				}
				if ((r = next_event(b, &e)) != 0) {
					ynode_free(key);
					goto fail;
				}
			}
			if ((r = build(b, &e, depth + 1, &val)) != 0) {
				ynode_free(key);
				goto fail;
			}
			if (add_item(n, key != NULL ? key->text : NULL, val) != 0) {
				ynode_free(key);
				ynode_free(val);
				bw_err_set(b->err, BW_ENOMEM, "out of memory");
				goto fail;
			}
			if (key != NULL) {
				key->text = NULL;	/* moved into n->keys */
				ynode_free(key);
			}
		}
		break;
	fail:
		ynode_free(n);
		n = NULL;
		break;
	}
	default:
		fail_at(b, ev->start_mark.line, "unexpected YAML structure");
		break;
	}
	yaml_event_delete(ev);
	if (n == NULL)
		return b->err->code != 0 ? b->err->code : BW_EINVAL;
	*out = n;
	return 0;
}

int
yaml_tree_parse_docs(const char *text, size_t len, const char *name, size_t max, struct ynode ***out, size_t *n,
		     struct bw_err *err)
{
	struct ybuild b = { .name = name, .err = err };
	struct ynode **docs = NULL, *root = NULL;
	yaml_event_t ev;
	size_t nd = 0, i;
	int r;

	*out = NULL;
	*n = 0;
	err->code = 0;
	if (len > DETECT_RULE_MAX_BYTES)
		return bw_err_set(err, BW_ERANGE, "%s: larger than %u bytes", name, DETECT_RULE_MAX_BYTES);
	if ((docs = calloc(max, sizeof *docs)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (!yaml_parser_initialize(&b.p)) {
		free(docs);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&b.p, (const unsigned char *)text, len);
	/* stream start */
	if ((r = next_event(&b, &ev)) != 0)
		goto out;
	yaml_event_delete(&ev);
	for (;;) {
		size_t line;
		/* document start, or the end of the stream */
		if ((r = next_event(&b, &ev)) != 0)
			goto out;
		line = ev.start_mark.line;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		if (nd == max) {
			r = fail_at(&b, line, max == 1 ? "a second YAML document (only one rule here)"
						      : "too many YAML documents in one file");
			goto out;
		}
		if ((r = next_event(&b, &ev)) != 0 || (r = build(&b, &ev, 0, &root)) != 0)
			goto out;
		docs[nd++] = root;
		root = NULL;
		/* document end */
		if ((r = next_event(&b, &ev)) != 0)
			goto out;
		yaml_event_delete(&ev);
	}
	if (nd == 0) {
		r = bw_err_set(err, BW_EINVAL, "%s: empty file", name);
		goto out;
	}
	*out = docs;
	*n = nd;
	docs = NULL;
	nd = 0;
out:
	for (i = 0; i < nd; i++)
		ynode_free(docs[i]);
	free(docs);
	ynode_free(root);
	yaml_parser_delete(&b.p);
	return r;
}

int
yaml_tree_parse(const char *text, size_t len, const char *name, struct ynode **out, struct bw_err *err)
{
	struct ynode **docs;
	size_t n;
	int r = yaml_tree_parse_docs(text, len, name, 1, &docs, &n, err);

	*out = NULL;
	if (r != 0)
		return r;
	*out = docs[0];
	free(docs);
	return 0;
}
