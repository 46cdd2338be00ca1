/*
 * detect/ruleset.c: every rule file below a directory, loaded in name
 * order; a file that does not compile is reported with its reason and the
 * rest load.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "detect_internal.h"

#define DIR_DEPTH_MAX 16
#define RULES_MAX 100000

struct detect_ruleset {
	struct detect_rule **rules;
	size_t n, cap;
	/* per log source, the rules that read it (indexes into rules) */
	size_t *by_src[DETECT_SRC_COUNT];
	size_t nsrc[DETECT_SRC_COUNT];
	struct prefilter *pf[DETECT_SRC_COUNT];	/* per log source: the rules an event can match */
};

void
detect_load_report_clear(struct detect_load_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		free(rep->items[i].path);
		free(rep->items[i].reason);
		free(rep->items[i].never);
	}
	free(rep->items);
	memset(rep, 0, sizeof *rep);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_rule_file(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yml") == 0) || (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int
report_add(struct detect_load_report *rep, const char *path, const char *reason, const char *never)
{
	struct detect_load_item *it = realloc(rep->items, (rep->n + 1) * sizeof *it);

	if (it == NULL)
		return BW_ENOMEM;
	rep->items = it;
	it = &rep->items[rep->n];
	memset(it, 0, sizeof *it);
	if ((it->path = strdup(path)) == NULL || (reason != NULL && (it->reason = strdup(reason)) == NULL) ||
	    (never != NULL && (it->never = strdup(never)) == NULL)) {
		free(it->path);
		free(it->reason);
		return BW_ENOMEM;
	}
	rep->n++;
	if (reason != NULL)
		rep->refused++;
	else
		rep->loaded++;
	if (never != NULL)
		rep->never_fire++;
	return 0;
}

#define DOCS_MAX 64	/* YAML documents (rules) in one file */

static int
push_rule(struct detect_ruleset *rs, struct detect_rule *rule)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct detect_rule **v = realloc(rs->rules, cap * sizeof *v);
		if (v == NULL)
			return BW_ENOMEM;
		rs->rules = v;
		rs->cap = cap;
	}
	rs->rules[rs->n++] = rule;
	return 0;
}

/* A rule already in rs (or among the file's first k) with the id or name of rule, or NULL. */
static const struct detect_rule *
clash(const struct detect_ruleset *rs, struct detect_rule **mine, size_t k, const struct detect_rule *rule, bool *by_id)
{
	size_t i;

	for (i = 0; i < rs->n + k; i++) {
		const struct detect_rule *o = i < rs->n ? rs->rules[i] : mine[i - rs->n];
		if (rule->id[0] != '\0' && strcmp(o->id, rule->id) == 0) {
			*by_id = true;
			return o;
		}
		if (rule->name != NULL && o->name != NULL && strcmp(o->name, rule->name) == 0) {
			*by_id = false;
			return o;
		}
	}
	return NULL;
}

/*
 * Compiles one file's text (or records why it was refused: r, ferr) into
 * rs and rep: every YAML document in it is a rule, and the file loads whole
 * or not at all.
 */
static int
add_rule(struct detect_ruleset *rs, const char *path, const char *text, size_t len, int r, struct bw_err *ferr,
	 struct detect_load_report *rep, struct bw_err *err)
{
	struct detect_rule *rules[DOCS_MAX];
	struct ynode **docs = NULL;
	size_t ndocs = 0, n = 0, i;

	if (rs->n + DOCS_MAX > RULES_MAX)
		return bw_err_set(err, BW_ERANGE, "more than %d rules", RULES_MAX);
	if (r == 0)
		r = yaml_tree_parse_docs(text, len, path, DOCS_MAX, &docs, &ndocs, ferr);
	for (i = 0; i < ndocs && r == 0; i++) {
		bool by_id;
		const struct detect_rule *o;
		r = rule_compile_tree(docs[i], path, &rules[n], ferr);
		if (r != 0)
			break;
		n++;
		if ((o = clash(rs, rules, n - 1, rules[n - 1], &by_id)) != NULL)
			r = bw_err_set(ferr, BW_EINVAL, "%s:%d: the rule %s '%.64s' is already that of the rule '%.128s'", path,
				       docs[i]->line, by_id ? "id" : "name", by_id ? o->id : o->name, o->title);
	}
	for (i = 0; i < ndocs; i++)
		ynode_free(docs[i]);
	free(docs);
	if (r != 0) {
		while (n > 0)
			detect_rule_free(rules[--n]);
		if (r == BW_ENOMEM || report_add(rep, path, ferr->msg, NULL) != 0)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		return 0;
	}
	for (i = 0; i < n; i++) {
		rules[i]->item = rep->n;
		if (push_rule(rs, rules[i]) != 0) {
			while (i < n)
				detect_rule_free(rules[i++]);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	}
	/* a file of several rules is "never fires" only when each of them is */
	for (i = 0; i < n && detect_rule_never_fires(rules[i]) != NULL; i++)
		;
	if (report_add(rep, path, NULL, n > 0 && i == n ? detect_rule_never_fires(rules[0]) : NULL) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

static int
load_file(struct detect_ruleset *rs, const char *path, struct detect_load_report *rep, struct bw_err *err)
{
	struct bw_err ferr = { 0 };
	uint8_t *data = NULL;
	size_t len = 0;
	int r = bw_file_read(path, DETECT_RULE_MAX_BYTES, &data, &len, &ferr);

	r = add_rule(rs, path, (const char *)data, len, r, &ferr, rep, err);
	free(data);
	return r;
}

static int
load_dir(struct detect_ruleset *rs, const char *dir, int depth, struct detect_load_report *rep, struct bw_err *err)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (depth > DIR_DEPTH_MAX)
		return bw_err_set(err, BW_ERANGE, "%s: directories nested too deeply", dir);
	if ((d = opendir(dir)) == NULL)
		return bw_err_set(err, errno == ENOENT ? BW_ENOTFOUND : BW_EIO, "cannot read the rules directory %s: %s",
				  dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *v);
			if (v == NULL) {
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
				break;
			}
			names = v;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_names);
	for (i = 0; i < n && r == 0; i++) {
		struct stat st;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) {
			r = report_add(rep, dir, "path too long", NULL);
			continue;
		}
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = load_dir(rs, path, depth + 1, rep, err);
		else if (S_ISREG(st.st_mode) && is_rule_file(names[i]))
			r = load_file(rs, path, rep, err);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* The per-source indexes, so that an event meets only the rules of its log source. */
static int
index_sources(struct detect_ruleset *rs, struct bw_err *err)
{
	size_t i;
	int s;

	for (s = 0; s < DETECT_SRC_COUNT; s++)
		if ((rs->by_src[s] = calloc(rs->n + 1, sizeof *rs->by_src[s])) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < rs->n; i++) {
		s = (int)detect_rule_source(rs->rules[i]);
		rs->by_src[s][rs->nsrc[s]++] = i;
	}
	for (s = 0; s < DETECT_SRC_COUNT; s++)
		if (prefilter_build(rs->rules, rs->by_src[s], rs->nsrc[s], &rs->pf[s]) != 0)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
}

/* The rule a correlation's reference (an id or a name) means, or NULL. */
static struct detect_rule *
find_ref(const struct detect_ruleset *rs, const char *ref, const struct detect_rule *self)
{
	size_t i;

	for (i = 0; i < rs->n; i++) {
		struct detect_rule *o = rs->rules[i];
		if (o != self && ((o->id[0] != '\0' && strcmp(o->id, ref) == 0) || (o->name != NULL && strcmp(o->name, ref) == 0)))
			return o;
	}
	return NULL;
}

/* How deep the chain of correlations below r goes (CORR_CHAIN_MAX + 1: deeper, or a loop). */
#define CORR_CHAIN_MAX 8
static int
chain_depth(const struct detect_rule *r, int depth)
{
	size_t i;
	int d, best = depth;

	if (r->corr == NULL || depth > CORR_CHAIN_MAX)
		return depth;
	for (i = 0; i < r->corr->nrefs; i++)
		if (r->corr->rules[i] != NULL && (d = chain_depth(r->corr->rules[i], depth + 1)) > best)
			best = d;
	return best;
}

/* Turns report item it into a refusal (reason: caller's text) and drops its rules from rs. */
static int
refuse_item(struct detect_ruleset *rs, struct detect_load_report *rep, size_t it, const char *reason)
{
	struct detect_load_item *item = &rep->items[it];
	size_t i, k = 0;

	if (item->reason != NULL)
		return 0;
	if ((item->reason = strdup(reason)) == NULL)
		return BW_ENOMEM;
	rep->loaded--;
	rep->refused++;
	if (item->never != NULL) {
		rep->never_fire--;
		free(item->never);
		item->never = NULL;
	}
	for (i = 0; i < rs->n; i++) {
		if (rs->rules[i]->item == it)
			detect_rule_free(rs->rules[i]);
		else
			rs->rules[k++] = rs->rules[i];
	}
	rs->n = k;
	return 0;
}

/*
 * Every correlation's references resolved to loaded rules; a file whose
 * correlation names a rule that is not loaded, or that chains in a loop,
 * is refused (and so, in turn, are correlations that named its rules).
 * Then each referenced rule learns its correlations, and stays quiet
 * unless one of them says generate: true.
 */
static int
resolve_correlations(struct detect_ruleset *rs, struct detect_load_report *rep, struct bw_err *err)
{
	char why[600];
	size_t i, k;
	bool again = true;

	while (again) {
		again = false;
		for (i = 0; i < rs->n && !again; i++) {
			struct detect_rule *r = rs->rules[i];
			if (r->corr == NULL)
				continue;
			for (k = 0; k < r->corr->nrefs; k++) {
				r->corr->rules[k] = find_ref(rs, r->corr->refs[k], r);
				if (r->corr->rules[k] == NULL) {
					snprintf(why, sizeof why, "%s: the correlation '%.128s' refers to '%.128s', which is no loaded rule",
						 rep->items[r->item].path, r->title, r->corr->refs[k]);
					break;
				}
			}
			if (k == r->corr->nrefs && chain_depth(r, 0) > CORR_CHAIN_MAX)
				snprintf(why, sizeof why, "%s: the correlation '%.128s' chains correlations in a loop or more than %d deep",
					 rep->items[r->item].path, r->title, CORR_CHAIN_MAX);
			else if (k == r->corr->nrefs)
				continue;
			if (refuse_item(rs, rep, r->item, why) != 0)
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			again = true;
		}
	}
	for (i = 0; i < rs->n; i++) {
		rs->rules[i]->index = i;
		rs->rules[i]->quiet = false;
	}
	for (i = 0; i < rs->n; i++) {
		struct detect_rule *c = rs->rules[i];
		if (c->corr == NULL)
			continue;
		for (k = 0; k < c->corr->nrefs; k++) {
			struct detect_rule *b = c->corr->rules[k];
			size_t *u = realloc(b->users, (b->nusers + 1) * sizeof *u);
			if (u == NULL)
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			b->users = u;
			b->users[b->nusers++] = i;
		}
	}
	for (i = 0; i < rs->n; i++) {
		struct detect_rule *b = rs->rules[i];
		bool generate = b->nusers == 0;
		for (k = 0; k < b->nusers; k++)
			generate = generate || rs->rules[b->users[k]]->corr->generate;
		b->quiet = !generate;
	}
	return 0;
}

/* After loading (r: its result): correlations resolved, the per-source indexes, then *out; on failure rs is freed. */
static int
finish_load(struct detect_ruleset *rs, struct detect_load_report *rep, int r, struct detect_ruleset **out,
	    struct bw_err *err)
{
	if (r == 0)
		r = resolve_correlations(rs, rep, err);
	if (r == 0)
		r = index_sources(rs, err);
	if (r != 0) {
		detect_ruleset_free(rs);
		return r;
	}
	*out = rs;
	return 0;
}

int
detect_ruleset_load_with_builtin(const char *dir, struct detect_ruleset **out, struct detect_load_report *rep,
				 struct bw_err *err)
{
	struct detect_ruleset *rs = calloc(1, sizeof *rs);
	const struct detect_builtin *b;
	int r = 0;

	*out = NULL;
	memset(rep, 0, sizeof *rep);
	if (rs == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (b = detect_builtin_rules; b->name != NULL && r == 0; b++) {
		struct bw_err ferr = { 0 };
		char name[300];
		snprintf(name, sizeof name, "builtin:%s", b->name);
		r = add_rule(rs, name, b->text, b->len, 0, &ferr, rep, err);
	}
	if (r == 0 && dir != NULL)
		r = load_dir(rs, dir, 0, rep, err);
	return finish_load(rs, rep, r, out, err);
}

int
detect_ruleset_load_text(const char *name, const char *text, size_t len, struct detect_ruleset **out,
			 struct detect_load_report *rep, struct bw_err *err)
{
	struct detect_ruleset *rs = calloc(1, sizeof *rs);
	struct bw_err ferr = { 0 };
	int r;

	*out = NULL;
	memset(rep, 0, sizeof *rep);
	if (rs == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = add_rule(rs, name, text, len, len > DETECT_RULE_MAX_BYTES ? bw_err_set(&ferr, BW_ERANGE,
						"%s: larger than %u bytes", name, DETECT_RULE_MAX_BYTES) : 0,
		     &ferr, rep, err);
	return finish_load(rs, rep, r, out, err);
}

int
detect_ruleset_load(const char *path, struct detect_ruleset **out, struct detect_load_report *rep,
		    struct bw_err *err)
{
	struct detect_ruleset *rs = calloc(1, sizeof *rs);
	struct stat st;
	int r;

	*out = NULL;
	memset(rep, 0, sizeof *rep);
	if (rs == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		r = load_file(rs, path, rep, err);	/* one rule file, whatever its name */
	else
		r = load_dir(rs, path, 0, rep, err);
	return finish_load(rs, rep, r, out, err);
}

size_t
detect_ruleset_match(const struct detect_ruleset *rs, enum detect_source src, const struct detect_event *ev,
		     detect_match_fn fn, void *ctx)
{
	struct ev_index x;
	size_t i, hits = 0;

	if ((unsigned)src >= DETECT_SRC_COUNT || src == DETECT_SRC_NONE || ev_index_build(&x, ev) != 0)
		return 0;
	{
		size_t cand[1024], n = prefilter_candidates(rs->pf[src], &x, cand, sizeof cand / sizeof cand[0]);
		bool all = n == SIZE_MAX;
		if (all)
			n = rs->nsrc[src];
		for (i = 0; i < n; i++) {
			const struct detect_rule *r = rs->rules[all ? rs->by_src[src][i] : cand[i]];
			if (detect_rule_match_indexed(r, &x)) {
				hits++;
				if (fn != NULL)
					fn(ctx, r);
			}
		}
	}
	ev_index_clear(&x);
	return hits;
}

void
detect_ruleset_free(struct detect_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		detect_rule_free(rs->rules[i]);
	for (i = 0; i < DETECT_SRC_COUNT; i++) {
		free(rs->by_src[i]);
		prefilter_free(rs->pf[i]);
	}
	free(rs->rules);
	free(rs);
}

size_t
detect_ruleset_count(const struct detect_ruleset *rs)
{
	return rs->n;
}

const struct detect_rule *
detect_ruleset_rule(const struct detect_ruleset *rs, size_t i)
{
	return rs->rules[i];
}

void
detect_ruleset_prefilter_stats(const struct detect_ruleset *rs, enum detect_source src, size_t *indexed,
			       size_t *always)
{
	*indexed = *always = 0;
	if ((unsigned)src < DETECT_SRC_COUNT && rs->pf[src] != NULL)
		prefilter_stats(rs->pf[src], indexed, always);
}
