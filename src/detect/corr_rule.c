/*
 * detect/corr_rule.c: the correlation section of a Sigma correlation rule
 * (specification v2: event_count, value_count, temporal,
 * temporal_ordered; rules, group-by, timespan, condition, aliases;
 * generate), checked and compiled. References are resolved by the rule
 * set once every rule is loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#define TIMESPAN_MAX_MS (30LL * 24 * 3600 * 1000)

void
corr_free(struct correlation *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrefs; i++)
		free(c->refs[i]);
	free(c->refs);
	free(c->rules);
	for (i = 0; i < c->ngroup; i++)
		free(c->group_by[i]);
	free(c->group_by);
	for (i = 0; i < c->naliases; i++) {
		free(c->aliases[i].alias);
		free(c->aliases[i].rule);
		free(c->aliases[i].field);
	}
	free(c->aliases);
	free(c->field);
	free(c);
}

/* A list of 1..max texts (or one text) into *out (caller frees). */
static int
text_list(const struct ynode *v, const char *what, size_t max, const char *name, char ***out, size_t *n,
	  struct bw_err *err)
{
	size_t i, cnt = v->kind == Y_SCALAR ? 1 : v->kind == Y_LIST ? v->n : 0;

	if (cnt == 0 || cnt > max)
		return bw_err_set(err, BW_EINVAL, "%s:%d: '%s' must be a list of 1..%zu names", name, v->line, what, max);
	if ((*out = calloc(cnt, sizeof **out)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < cnt; i++) {
		const struct ynode *it = v->kind == Y_SCALAR ? v : v->items[i];
		if (it->kind != Y_SCALAR || it->len == 0 || it->len > 128)
			return bw_err_set(err, BW_EINVAL, "%s:%d: each of '%s' must be a name of 1..128 characters", name,
					  it->line, what);
		if (((*out)[i] = strdup(it->text)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		(*n)++;
	}
	return 0;
}

static int
parse_timespan(const struct ynode *v, const char *name, int64_t *out, struct bw_err *err)
{
	char *end;
	long long n;
	int64_t unit;

	if (v == NULL)
		return bw_err_set(err, BW_EINVAL, "%s: the correlation has no 'timespan'", name);
	if (v->kind != Y_SCALAR || v->len < 2 || v->text[0] < '0' || v->text[0] > '9')
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'timespan' must be a number and s, m, h or d (90m)", name,
				  v->line);
	errno = 0;
	n = strtoll(v->text, &end, 10);
	switch (end[0] != '\0' && end[1] == '\0' ? end[0] : '?') {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 24LL * 3600 * 1000; break;
	default:
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'timespan' must be a number and s, m, h or d (90m)", name,
				  v->line);
	}
	if (errno != 0 || n <= 0 || n > TIMESPAN_MAX_MS / unit)
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'timespan' must be from 1s to 30d", name, v->line);
	*out = n * unit;
	return 0;
}

static int
count_value(const struct ynode *v, const char *key, const char *name, uint32_t *out, struct bw_err *err)
{
	char *end;
	long n;

	if (v->kind != Y_SCALAR || v->len == 0 || v->text[0] < '0' || v->text[0] > '9')
		return bw_err_set(err, BW_EINVAL, "%s:%d: condition '%s' must be a whole number", name, v->line, key);
	errno = 0;
	n = strtol(v->text, &end, 10);
	if (*end != '\0' || errno != 0 || n < 0 || n > CORR_COUNT_MAX)
		return bw_err_set(err, BW_EINVAL, "%s:%d: condition '%s' must be a whole number from 0 to %d", name,
				  v->line, key, CORR_COUNT_MAX);
	*out = (uint32_t)n;
	return 0;
}

/* condition: {gt|gte|lt|lte|eq: N, ..., field: F} into c. */
static int
parse_condition(const struct ynode *v, const char *name, struct correlation *c, struct bw_err *err)
{
	size_t i;
	int r;

	if (v == NULL) {
		if (c->type == CORR_TEMPORAL || c->type == CORR_TEMPORAL_ORDERED) {
			c->has_min = true;	/* every rule */
			c->min = (uint32_t)c->nrefs;
			return 0;
		}
		return bw_err_set(err, BW_EINVAL, "%s: the correlation has no 'condition'", name);
	}
	if (v->kind != Y_MAP || v->n == 0)
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'condition' must be a map (gte: 10)", name, v->line);
	for (i = 0; i < v->n; i++) {
		const char *k = v->keys[i];
		uint32_t n = 0;
		if (strcmp(k, "field") == 0) {
			if (v->items[i]->kind != Y_SCALAR || v->items[i]->len == 0 || v->items[i]->len > 128)
				return bw_err_set(err, BW_EINVAL, "%s:%d: condition 'field' must be a field name", name,
						  v->items[i]->line);
			if ((c->field = strdup(v->items[i]->text)) == NULL)
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			continue;
		}
		if ((r = count_value(v->items[i], k, name, &n, err)) != 0)
			return r;
		if (strcmp(k, "gt") == 0 || strcmp(k, "gte") == 0) {
			uint32_t lo = strcmp(k, "gt") == 0 ? n + 1 : n;
			if (!c->has_min || lo > c->min)
				c->min = lo;
			c->has_min = true;
		} else if (strcmp(k, "lt") == 0 || strcmp(k, "lte") == 0) {
			uint32_t hi;
			if (strcmp(k, "lt") == 0 && n == 0)
				return bw_err_set(err, BW_EINVAL, "%s:%d: condition 'lt: 0' can never hold", name,
						  v->items[i]->line);
			hi = strcmp(k, "lt") == 0 ? n - 1 : n;
			if (!c->has_max || hi < c->max)
				c->max = hi;
			c->has_max = true;
		} else if (strcmp(k, "eq") == 0) {
			c->has_min = c->has_max = true;
			c->min = c->max = n;
		} else {
			return bw_err_set(err, BW_EINVAL, "%s:%d: unknown condition '%.32s' (gt, gte, lt, lte, eq, field)", name,
					  v->items[i]->line, k);
		}
	}
	if (!c->has_min || c->min == 0)
		return bw_err_set(err, BW_EINVAL,
				  "%s:%d: the condition needs a lower bound of at least 1 (gt, gte or eq): a correlation is "
				  "decided as each event arrives",
				  name, v->line);
	if (c->has_max && c->max < c->min)
		return bw_err_set(err, BW_EINVAL, "%s:%d: the condition can never hold (its bounds exclude each other)",
				  name, v->line);
	if (c->type == CORR_VALUE_COUNT && c->field == NULL)
		return bw_err_set(err, BW_EINVAL, "%s:%d: a value_count condition needs 'field'", name, v->line);
	if (c->type != CORR_VALUE_COUNT && c->field != NULL)
		return bw_err_set(err, BW_EINVAL, "%s:%d: condition 'field' belongs to value_count only", name, v->line);
	if ((c->type == CORR_TEMPORAL || c->type == CORR_TEMPORAL_ORDERED) && c->min > c->nrefs)
		return bw_err_set(err, BW_EINVAL, "%s:%d: the condition asks for more rules than the correlation names",
				  name, v->line);
	return 0;
}

static int
parse_aliases(const struct ynode *v, const char *name, struct correlation *c, struct bw_err *err)
{
	size_t i, k, total = 0;

	if (v->kind != Y_MAP)
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'aliases' must be a map: alias: {rule name: field}", name, v->line);
	for (i = 0; i < v->n; i++) {
		if (v->items[i]->kind != Y_MAP || v->items[i]->n == 0)
			return bw_err_set(err, BW_EINVAL, "%s:%d: alias '%.64s' must map rule names to fields", name,
					  v->items[i]->line, v->keys[i]);
		total += v->items[i]->n;
	}
	if (total > CORR_RULES_MAX * CORR_GROUP_BY_MAX)
		return bw_err_set(err, BW_EINVAL, "%s:%d: too many aliases", name, v->line);
	if ((c->aliases = calloc(total + 1, sizeof *c->aliases)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < v->n; i++)
		for (k = 0; k < v->items[i]->n; k++) {
			const struct ynode *f = v->items[i]->items[k];
			struct corr_alias *a = &c->aliases[c->naliases];
			if (f->kind != Y_SCALAR || f->len == 0 || f->len > 128)
				return bw_err_set(err, BW_EINVAL, "%s:%d: alias '%.64s' must name a field for '%.64s'", name,
						  f->line, v->keys[i], v->items[i]->keys[k]);
			a->alias = strdup(v->keys[i]);
			a->rule = strdup(v->items[i]->keys[k]);
			a->field = strdup(f->text);
			c->naliases++;
			if (a->alias == NULL || a->rule == NULL || a->field == NULL)
				return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	return 0;
}

int
corr_compile(const struct ynode *root, const char *name, struct detect_rule *r, struct bw_err *err)
{
	static const char *const types[] = { "event_count", "value_count", "temporal", "temporal_ordered" };
	const struct ynode *sec = ynode_get(root, "correlation"), *v, *gen = ynode_get(root, "generate");
	struct correlation *c;
	size_t i;
	int rc;

	if (sec->kind != Y_MAP)
		return bw_err_set(err, BW_EINVAL, "%s:%d: 'correlation' must be a map", name, sec->line);
	if ((c = calloc(1, sizeof *c)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r->corr = c;
	r->source = DETECT_SRC_NONE;
	for (i = 0; i < sec->n; i++) {
		static const char *const keys[] = { "type", "rules", "group-by", "timespan", "condition", "aliases" };
		size_t k;
		for (k = 0; k < sizeof keys / sizeof keys[0] && strcmp(keys[k], sec->keys[i]) != 0; k++)
			;
		if (k == sizeof keys / sizeof keys[0])
			return bw_err_set(err, BW_EINVAL, "%s:%d: unknown key '%.64s' in 'correlation'", name,
					  sec->items[i]->line, sec->keys[i]);
	}
	v = ynode_get(sec, "type");
	if (v == NULL || v->kind != Y_SCALAR)
		return bw_err_set(err, BW_EINVAL, "%s:%d: the correlation has no 'type'", name, sec->line);
	for (i = 0; i < 4 && strcmp(types[i], v->text) != 0; i++)
		;
	if (i == 4)
		return bw_err_set(err, BW_EINVAL,
				  "%s:%d: correlation type '%.32s' is not supported (event_count, value_count, temporal, "
				  "temporal_ordered)",
				  name, v->line, v->text);
	c->type = (enum corr_type)i;
	if ((v = ynode_get(sec, "rules")) == NULL)
		return bw_err_set(err, BW_EINVAL, "%s:%d: the correlation has no 'rules'", name, sec->line);
	if ((rc = text_list(v, "rules", CORR_RULES_MAX, name, &c->refs, &c->nrefs, err)) != 0)
		return rc;
	if ((c->rules = calloc(c->nrefs, sizeof *c->rules)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((c->type == CORR_TEMPORAL || c->type == CORR_TEMPORAL_ORDERED) && c->nrefs < 2)
		return bw_err_set(err, BW_EINVAL, "%s:%d: a %s correlation names at least two rules", name, v->line,
				  types[c->type]);
	if ((v = ynode_get(sec, "group-by")) != NULL &&
	    (rc = text_list(v, "group-by", CORR_GROUP_BY_MAX, name, &c->group_by, &c->ngroup, err)) != 0)
		return rc;
	if ((rc = parse_timespan(ynode_get(sec, "timespan"), name, &c->timespan_ms, err)) != 0 ||
	    (rc = parse_condition(ynode_get(sec, "condition"), name, c, err)) != 0)
		return rc;
	if ((v = ynode_get(sec, "aliases")) != NULL && (rc = parse_aliases(v, name, c, err)) != 0)
		return rc;
	if (gen != NULL) {
		if (gen->kind != Y_SCALAR || (strcmp(gen->text, "true") != 0 && strcmp(gen->text, "false") != 0))
			return bw_err_set(err, BW_EINVAL, "%s:%d: 'generate' must be true or false", name, gen->line);
		c->generate = strcmp(gen->text, "true") == 0;
	}
	return 0;
}
