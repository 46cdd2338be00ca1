/*
 * detect/rule.c: a Sigma rule from its YAML tree to a compiled expression,
 * and the expression evaluated against an event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#define FIELD_NAME_MAX 128
#define TITLE_MAX 256

/* ---- expressions ------------------------------------------------------------------ */

void
expr_free(struct expr *e)
{
	size_t i;

	if (e == NULL)
		return;
	if (e->kind != E_REF)
		for (i = 0; i < e->n; i++)
			expr_free(e->kids[i]);
	free(e->kids);
	free(e->field);
	matchers_free(e->m, e->nm);
	free(e);
}

/* Do the matchers hold for the field's values (any occurrence; all of them with |all)? */
static bool
field_eval(const struct expr *e, const struct ev_index *x)
{
	const struct detect_field *f = x->ev->fields;
	int32_t first = ev_index_find(x, e->field, e->fhash), i;
	size_t k;

	for (k = 0; k < e->nm; k++) {
		bool hit = false;
		if (first < 0)
			hit = matcher_test(&e->m[k], NULL, 0);
		for (i = first; i >= 0 && !hit; i = ev_index_next(x, i))
			hit = matcher_test(&e->m[k], f[i].value, f[i].len);
		if (hit && !e->all)
			return true;
		if (!hit && e->all)
			return false;
	}
	return e->all;
}

static bool
keyword_eval(const struct expr *e, const struct detect_event *ev)
{
	size_t k;

	if (ev->raw == NULL)
		return false;
	for (k = 0; k < e->nm; k++) {
		bool hit = matcher_test(&e->m[k], ev->raw, ev->raw_len);
		if (hit && !e->all)
			return true;
		if (!hit && e->all)
			return false;
	}
	return e->all;
}

/* A field leaf's value when its field is absent. */
static bool
detect_rule_match_expr_absent(const struct expr *e, const struct detect_event *ev)
{
	struct ev_index x;
	bool v;

	if (ev_index_build(&x, ev) != 0)
		return true;	/* out of memory: assume it could match rather than calling the rule dead */
	v = field_eval(e, &x);
	ev_index_clear(&x);
	return v;
}

bool
expr_eval(const struct expr *e, const struct ev_index *x)
{
	size_t i;

	switch (e->kind) {
	case E_AND:
		for (i = 0; i < e->n; i++)
			if (!expr_eval(e->kids[i], x))
				return false;
		return true;
	case E_OR:
		for (i = 0; i < e->n; i++)
			if (expr_eval(e->kids[i], x))
				return true;
		return false;
	case E_NOT:
		return !expr_eval(e->kids[0], x);
	case E_REF:
		return expr_eval(e->kids[0], x);
	case E_FIELD:
		return field_eval(e, x);
	case E_KEYWORD:
		return keyword_eval(e, x->ev);
	}
	return false;
}

/* ---- compiling ------------------------------------------------------------------- */

static struct expr *
new_expr(enum expr_kind k, struct bw_err *err)
{
	struct expr *e = calloc(1, sizeof *e);

	if (e == NULL)
		bw_err_set(err, BW_ENOMEM, "out of memory");
	else
		e->kind = k;
	return e;
}

static int
push(struct expr *parent, struct expr *kid, struct bw_err *err)
{
	struct expr **k = realloc(parent->kids, (parent->n + 1) * sizeof *k);

	if (k == NULL) {
		expr_free(kid);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	parent->kids = k;
	parent->kids[parent->n++] = kid;
	return 0;
}

/* "Field|mod|mod": one entry of a search identifier's map. */
static int
compile_entry(const char *key, const struct ynode *values, const char *name, int line, struct expr **out,
	      struct bw_err *err)
{
	char *copy = strdup(key), *parts[16], *save = NULL, *tok;
	size_t nparts = 0;
	struct expr *e = NULL;
	bool keyword;
	int r;

	*out = NULL;
	if (copy == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	keyword = key[0] == '|';
	for (tok = strtok_r(copy, "|", &save); tok != NULL; tok = strtok_r(NULL, "|", &save)) {
		if (nparts == sizeof parts / sizeof parts[0]) {
			free(copy);
			return bw_err_set(err, BW_EINVAL, "%s:%d: too many modifiers", name, line);
		}
		parts[nparts++] = tok;
	}
	if (!keyword && (nparts == 0 || strlen(parts[0]) > FIELD_NAME_MAX)) {
		free(copy);
		return bw_err_set(err, BW_EINVAL, "%s:%d: a field name must be 1..%d characters", name, line,
				  FIELD_NAME_MAX);
	}
	if ((e = new_expr(keyword ? E_KEYWORD : E_FIELD, err)) == NULL) {
		free(copy);
		return BW_ENOMEM;
	}
	if (!keyword) {
		if ((e->field = strdup(parts[0])) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto fail;
		}
		e->fhash = field_hash(e->field);
	}
	if ((r = matchers_compile(values, keyword ? parts : parts + 1, keyword ? nparts : nparts - 1, keyword, name,
				  &e->m, &e->nm, &e->all, err)) != 0)
		goto fail;
	free(copy);
	*out = e;
	return 0;
fail:
	free(copy);
	expr_free(e);
	return r;
}

/* A map of field entries: all must hold. */
static int
compile_map(const struct ynode *map, const char *name, struct expr **out, struct bw_err *err)
{
	struct expr *e, *kid;
	size_t i;
	int r;

	*out = NULL;
	if (map->n == 0)
		return bw_err_set(err, BW_EINVAL, "%s:%d: an empty selection", name, map->line);
	if ((e = new_expr(E_AND, err)) == NULL)
		return BW_ENOMEM;
	for (i = 0; i < map->n; i++) {
		if ((r = compile_entry(map->keys[i], map->items[i], name, map->items[i]->line, &kid, err)) != 0 ||
		    (r = push(e, kid, err)) != 0) {
			expr_free(e);
			return r;
		}
	}
	*out = e;
	return 0;
}

/* A search identifier: a map (AND), a list of maps (OR) or keywords (a list of values, or one). */
static int
compile_search(const struct ynode *v, const char *name, struct expr **out, struct bw_err *err)
{
	struct expr *e, *kid;
	size_t i, maps = 0;
	int r;

	*out = NULL;
	if (v->kind == Y_MAP)
		return compile_map(v, name, out, err);
	if (v->kind == Y_SCALAR)
		return compile_entry("|", v, name, v->line, out, err);
	for (i = 0; i < v->n; i++)
		maps += v->items[i]->kind == Y_MAP;
	if (maps == 0)
		return compile_entry("|", v, name, v->line, out, err);
	if (maps != v->n)
		return bw_err_set(err, BW_EINVAL, "%s:%d: a search identifier mixes maps and keywords", name, v->line);
	if ((e = new_expr(E_OR, err)) == NULL)
		return BW_ENOMEM;
	for (i = 0; i < v->n; i++)
		if ((r = compile_map(v->items[i], name, &kid, err)) != 0 || (r = push(e, kid, err)) != 0) {
			expr_free(e);
			return r;
		}
	*out = e;
	return 0;
}

/* A scalar of the rule's metadata, or NULL (absent). Refuses a non-scalar or one longer than max. */
static int
meta_text(const struct ynode *root, const char *key, size_t max, const char *name, const char **out,
	  struct bw_err *err)
{
	const struct ynode *v = ynode_get(root, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (v->kind != Y_SCALAR || v->len == 0 || v->len > max)
		return bw_err_set(err, BW_EINVAL, "%s:%d: '%s' must be a text of 1..%zu characters", name, v->line, key,
				  max);
	*out = v->text;
	return 0;
}

static const char *const level_names[] = { "informational", "low", "medium", "high", "critical" };

bool
detect_level_parse(const char *name, enum detect_level *out)
{
	size_t i;

	for (i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum detect_level)i;
			return true;
		}
	return false;
}

static int
parse_level(const struct ynode *root, const char *name, enum detect_level *out, struct bw_err *err)
{
	const char *t;
	int r;

	*out = DETECT_MEDIUM;
	if ((r = meta_text(root, "level", 32, name, &t, err)) != 0 || t == NULL)
		return r;
	if (detect_level_parse(t, out))
		return 0;
	return bw_err_set(err, BW_EINVAL, "%s:%d: level '%.32s' is none of informational, low, medium, high, critical",
			  name, ynode_get(root, "level")->line, t);
}

static int
check_status(const struct ynode *root, const char *name, struct bw_err *err)
{
	static const char *const names[] = { "stable", "test", "experimental", "deprecated", "unsupported" };
	const char *t;
	size_t i;
	int r;

	if ((r = meta_text(root, "status", 32, name, &t, err)) != 0 || t == NULL)
		return r;
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(t, names[i]) == 0)
			return 0;
	return bw_err_set(err, BW_EINVAL, "%s:%d: status '%.32s' is none of stable, test, experimental, deprecated, "
			  "unsupported", name, ynode_get(root, "status")->line, t);
}

/* Which of bulwark's sources feeds the rule; *never (caller frees) says why none does. */
static int
classify(const struct ynode *ls, const char *name, struct detect_rule *r, struct bw_err *err)
{
	const char *product = NULL, *service = NULL, *category = NULL;
	char why[300];
	size_t i;

	if (ls == NULL || ls->kind != Y_MAP || ls->n == 0)
		return bw_err_set(err, BW_EINVAL, "%s: 'logsource' must be a map (product, category, service)", name);
	for (i = 0; i < ls->n; i++) {
		const struct ynode *v = ls->items[i];
		if (v->kind != Y_SCALAR)
			return bw_err_set(err, BW_EINVAL, "%s:%d: logsource '%s' must be a text", name, v->line, ls->keys[i]);
		if (strcmp(ls->keys[i], "product") == 0)
			product = v->text;
		else if (strcmp(ls->keys[i], "service") == 0)
			service = v->text;
		else if (strcmp(ls->keys[i], "category") == 0)
			category = v->text;
	}
	if (product != NULL && strcmp(product, "linux") == 0 && service != NULL && strcmp(service, "auditd") == 0 &&
	    category == NULL)
		r->source = DETECT_SRC_AUDITD;
	else if (product != NULL && strcmp(product, "linux") == 0 && service == NULL && category != NULL &&
		 strcmp(category, "process_creation") == 0)
		r->source = DETECT_SRC_PROCESS_CREATION;
	else if (product != NULL && strcmp(product, "linux") == 0 && service == NULL && category != NULL &&
		 strcmp(category, "file_event") == 0)
		r->source = DETECT_SRC_FILE_EVENT;
	else if (product != NULL && strcmp(product, "linux") == 0 && service == NULL && category != NULL &&
		 strcmp(category, "network_connection") == 0)
		r->source = DETECT_SRC_NETWORK_CONNECTION;
	else if (product != NULL && strcmp(product, "linux") == 0 && service == NULL && category != NULL &&
		 strcmp(category, "file_access") == 0)
		r->source = DETECT_SRC_FILE_ACCESS;
	else if (product != NULL && strcmp(product, "linux") == 0 && service == NULL && category != NULL &&
		 strcmp(category, "file_change") == 0)
		r->source = DETECT_SRC_FILE_CHANGE;
	else if (product != NULL && strcmp(product, "bulwark") == 0 && category == NULL && service != NULL &&
		 strcmp(service, "agent") == 0)
		r->source = DETECT_SRC_AGENT;
	else if (product != NULL && strcmp(product, "bulwark") == 0 && service == NULL && category == NULL)
		r->source = DETECT_SRC_BULWARK;
	else if (product != NULL && strcmp(product, "linux") == 0 && category == NULL) {
		static const struct {
			const char *service;
			enum detect_source src;
		} logs[] = { { "syslog", DETECT_SRC_SYSLOG }, { "auth", DETECT_SRC_AUTH }, { "sshd", DETECT_SRC_SSHD },
			     { "cron", DETECT_SRC_CRON } };
		if (service == NULL)
			r->source = DETECT_SRC_LINUX;
		for (size_t k = 0; service != NULL && k < sizeof logs / sizeof logs[0]; k++)
			if (strcmp(service, logs[k].service) == 0)
				r->source = logs[k].src;
	}
	if (r->source != DETECT_SRC_NONE)
		return 0;
	snprintf(why, sizeof why, "bulwark collects no events of log source%s%.60s%s%.60s%s%.60s",
		 category ? " category: " : "", category ? category : "", product ? " product: " : "",
		 product ? product : "", service ? " service: " : "", service ? service : "");
	if ((r->never = strdup(why)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

static int
compile_condition(const struct ynode *c, const char *name, struct detect_rule *r, struct bw_err *err)
{
	char where[300];
	size_t i;
	int rc;

	if (c == NULL)
		return bw_err_set(err, BW_EINVAL, "%s: the detection has no 'condition'", name);
	snprintf(where, sizeof where, "%s:%d", name, c->line);
	if (c->kind == Y_SCALAR)
		return cond_parse(c->text, r->ids, r->nids, where, &r->cond, err);
	if (c->kind == Y_MAP || c->n == 0)
		return bw_err_set(err, BW_EINVAL, "%s: 'condition' must be a text or a list of texts", where);
	/* A list of conditions: any of them (Sigma v1 style). */
	if ((r->cond = new_expr(E_OR, err)) == NULL)
		return BW_ENOMEM;
	for (i = 0; i < c->n; i++) {
		struct expr *e;
		if (c->items[i]->kind != Y_SCALAR)
			return bw_err_set(err, BW_EINVAL, "%s: 'condition' must be a text or a list of texts", where);
		snprintf(where, sizeof where, "%s:%d", name, c->items[i]->line);
		if ((rc = cond_parse(c->items[i]->text, r->ids, r->nids, where, &e, err)) != 0 ||
		    (rc = push(r->cond, e, err)) != 0)
			return rc;
	}
	return 0;
}

static int
compile_detection(const struct ynode *det, const char *name, struct detect_rule *r, struct bw_err *err)
{
	size_t i;
	int rc;

	if (det == NULL || det->kind != Y_MAP)
		return bw_err_set(err, BW_EINVAL, "%s: 'detection' must be a map of search identifiers and a condition",
				  name);
	if ((r->ids = calloc(det->n, sizeof *r->ids)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < det->n; i++) {
		const char *key = det->keys[i];
		struct search_id *id = &r->ids[r->nids];
		if (strcmp(key, "condition") == 0)
			continue;
		if (strcmp(key, "timeframe") == 0)
			return bw_err_set(err, BW_EINVAL, "%s:%d: 'timeframe' in a detection is Sigma v1; write a "
					  "correlation rule", name, det->items[i]->line);
		if ((id->name = strdup(key)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		r->nids++;
		if ((rc = compile_search(det->items[i], name, &id->e, err)) != 0)
			return rc;
	}
	if (r->nids == 0)
		return bw_err_set(err, BW_EINVAL, "%s: the detection has no search identifiers", name);
	return compile_condition(ynode_get(det, "condition"), name, r, err);
}

/*
 * Could e be true (*can_true) or false (*can_false) for some document of
 * src? A field src never has is always absent, so its leaf has one value;
 * *missing gets the first such field that decided a leaf.
 */
static void
expr_possible(const struct expr *e, enum detect_source src, bool *can_true, bool *can_false, const char **missing)
{
	bool t, f;
	size_t i;

	switch (e->kind) {
	case E_AND:
	case E_OR:
		*can_true = e->kind == E_AND;
		*can_false = e->kind == E_OR;
		for (i = 0; i < e->n; i++) {
			expr_possible(e->kids[i], src, &t, &f, missing);
			if (e->kind == E_AND) {
				*can_true = *can_true && t;
				*can_false = *can_false || f;
			} else {
				*can_true = *can_true || t;
				*can_false = *can_false && f;
			}
		}
		return;
	case E_NOT:
		expr_possible(e->kids[0], src, &t, &f, missing);
		*can_true = f;
		*can_false = t;
		return;
	case E_REF:
		expr_possible(e->kids[0], src, can_true, can_false, missing);
		return;
	case E_FIELD:
		if (!detect_source_has_field(src, e->field)) {
			struct detect_field none = { 0 };
			struct detect_event ev = { &none, 0, NULL, 0 };
			bool v = detect_rule_match_expr_absent(e, &ev);
			*can_true = v;
			*can_false = !v;
			if (*missing == NULL && !v)
				*missing = e->field;
			return;
		}
		break;
	case E_KEYWORD:
		break;
	}
	*can_true = *can_false = true;
}

/* A rule of a source with a fixed field set that only fields it never has could satisfy can never fire. */
static int
check_fields(struct detect_rule *r, struct bw_err *err)
{
	bool t, f;
	const char *missing = NULL;
	char why[300];

	if (r->source == DETECT_SRC_NONE)
		return 0;
	expr_possible(r->cond, r->source, &t, &f, &missing);
	if (t)
		return 0;
	snprintf(why, sizeof why, "bulwark's %s events never have the field %.64s that the rule needs",
		 detect_source_name(r->source), missing != NULL ? missing : "?");
	if ((r->never = strdup(why)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

int
rule_compile_tree(const struct ynode *root, const char *name, struct detect_rule **out, struct bw_err *err)
{
	struct detect_rule *r = NULL;
	const char *title, *id, *rname;
	int rc;

	*out = NULL;
	if (root->kind != Y_MAP)
		return bw_err_set(err, BW_EINVAL, "%s:%d: a rule is a YAML map", name, root->line);
	if (ynode_get(root, "filter") != NULL)
		return bw_err_set(err, BW_EINVAL, "%s:%d: filter rules are not supported yet", name,
				  ynode_get(root, "filter")->line);
	if (ynode_get(root, "action") != NULL)
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'action' (Sigma v1 rule collections) is not supported", name,
				  ynode_get(root, "action")->line);
	if ((r = calloc(1, sizeof *r)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((rc = meta_text(root, "title", TITLE_MAX, name, &title, err)) != 0 ||
	    (rc = meta_text(root, "id", 64, name, &id, err)) != 0 ||
	    (rc = meta_text(root, "name", 128, name, &rname, err)) != 0 ||
	    (rc = parse_level(root, name, &r->level, err)) != 0 || (rc = check_status(root, name, err)) != 0)
		goto out;
	if (title == NULL) {
		rc = bw_err_set(err, BW_EINVAL, "%s:%d: the rule has no 'title'", name, root->line);
		goto out;
	}
	if ((r->title = strdup(title)) == NULL || (r->id = strdup(id != NULL ? id : "")) == NULL ||
	    (rname != NULL && (r->name = strdup(rname)) == NULL)) {
		rc = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if (ynode_get(root, "correlation") != NULL) {
		if (ynode_get(root, "detection") != NULL) {
			rc = bw_err_set(err, BW_EINVAL, "%s:%d: a rule has either 'detection' or 'correlation', not both",
					name, ynode_get(root, "detection")->line);
			goto out;
		}
		if ((rc = corr_compile(root, name, r, err)) != 0)
			goto out;
	} else if ((rc = classify(ynode_get(root, "logsource"), name, r, err)) != 0 ||
		   (rc = compile_detection(ynode_get(root, "detection"), name, r, err)) != 0 ||
		   (rc = check_fields(r, err)) != 0) {
		goto out;
	}
	*out = r;
	r = NULL;
out:
	detect_rule_free(r);
	return rc;
}

int
detect_rule_compile(const char *text, size_t len, const char *name, struct detect_rule **out, struct bw_err *err)
{
	struct ynode *root = NULL;
	int rc;

	*out = NULL;
	if ((rc = yaml_tree_parse(text, len, name, &root, err)) != 0)
		return rc;
	rc = rule_compile_tree(root, name, out, err);
	if (rc == 0 && (*out)->corr != NULL) {
		detect_rule_free(*out);
		*out = NULL;
		rc = bw_err_set(err, BW_EINVAL, "%s: a correlation rule needs the rules it refers to: load it with them",
				name);
	}
	ynode_free(root);
	return rc;
}

void
detect_rule_free(struct detect_rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	expr_free(r->cond);
	for (i = 0; i < r->nids; i++) {
		free(r->ids[i].name);
		expr_free(r->ids[i].e);
	}
	free(r->ids);
	free(r->title);
	free(r->id);
	free(r->name);
	free(r->never);
	corr_free(r->corr);
	free(r->users);
	free(r);
}

bool
detect_rule_match_indexed(const struct detect_rule *r, const struct ev_index *x)
{
	return r->cond != NULL && expr_eval(r->cond, x);
}

bool
detect_rule_match(const struct detect_rule *r, const struct detect_event *ev)
{
	struct ev_index x;
	bool m;

	if (r->cond == NULL || ev_index_build(&x, ev) != 0)
		return false;	/* a correlation, or out of memory: no match rather than a wrong one */
	m = expr_eval(r->cond, &x);
	ev_index_clear(&x);
	return m;
}

/* Collects the names of the leaves that hold on the paths that make e true. */
static void
explain(const struct expr *e, const struct ev_index *ev, const char **names, size_t cap, size_t *n)
{
	size_t i, k;
	const char *name;

	switch (e->kind) {
	case E_AND:
	case E_OR:
	case E_REF:
		for (i = 0; i < e->n; i++)
			if (expr_eval(e->kids[i], ev))
				explain(e->kids[i], ev, names, cap, n);
		return;
	case E_NOT:
		return;	/* what did not happen names no field */
	case E_FIELD:
	case E_KEYWORD:
		name = e->kind == E_FIELD ? e->field : "keywords";
		for (k = 0; k < *n; k++)
			if (strcmp(names[k], name) == 0)
				return;
		if (*n < cap)
			names[(*n)++] = name;
		return;
	}
}

size_t
detect_rule_explain(const struct detect_rule *r, const struct detect_event *ev, const char **names, size_t cap)
{
	struct ev_index x;
	size_t n = 0;

	if (r->cond == NULL || ev_index_build(&x, ev) != 0)
		return 0;
	if (expr_eval(r->cond, &x))
		explain(r->cond, &x, names, cap, &n);
	ev_index_clear(&x);
	return n;
}

const char *
detect_rule_title(const struct detect_rule *r)
{
	return r->title;
}

const char *
detect_rule_id(const struct detect_rule *r)
{
	return r->id;
}

enum detect_level
detect_rule_level(const struct detect_rule *r)
{
	return r->level;
}

enum detect_source
detect_rule_source(const struct detect_rule *r)
{
	return r->source;
}

const char *
detect_rule_never_fires(const struct detect_rule *r)
{
	return r->never;
}

const char *
detect_level_name(enum detect_level l)
{
	return (unsigned)l < sizeof level_names / sizeof level_names[0] ? level_names[l] : "?";
}

static const char *const source_names[DETECT_SRC_COUNT] = {
	[DETECT_SRC_NONE] = "none",
	[DETECT_SRC_AUDITD] = "auditd",
	[DETECT_SRC_PROCESS_CREATION] = "process_creation",
	[DETECT_SRC_BULWARK] = "bulwark",
	[DETECT_SRC_FILE_EVENT] = "file_event",
	[DETECT_SRC_NETWORK_CONNECTION] = "network_connection",
	[DETECT_SRC_FILE_ACCESS] = "file_access",
	[DETECT_SRC_LINUX] = "linux",
	[DETECT_SRC_SYSLOG] = "syslog",
	[DETECT_SRC_AUTH] = "auth",
	[DETECT_SRC_SSHD] = "sshd",
	[DETECT_SRC_CRON] = "cron",
	[DETECT_SRC_FILE_CHANGE] = "file_change",
	[DETECT_SRC_AGENT] = "agent",
};

const char *
detect_source_name(enum detect_source s)
{
	return (unsigned)s < DETECT_SRC_COUNT ? source_names[s] : "?";
}

bool
detect_source_parse(const char *name, enum detect_source *out)
{
	unsigned i;

	for (i = DETECT_SRC_NONE + 1; i < DETECT_SRC_COUNT; i++)
		if (strcmp(name, source_names[i]) == 0) {
			*out = (enum detect_source)i;
			return true;
		}
	return false;
}

bool
detect_rule_is_correlation(const struct detect_rule *r)
{
	return r->corr != NULL;
}

bool
detect_rule_quiet(const struct detect_rule *r)
{
	return r->quiet;
}

const char *
detect_rule_correlation_type(const struct detect_rule *r)
{
	static const char *const names[] = { "event_count", "value_count", "temporal", "temporal_ordered" };

	return r->corr != NULL ? names[r->corr->type] : NULL;
}
