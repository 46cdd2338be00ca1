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
	size_t *by_src[DETECT_SRC_BULWARK + 1];
	size_t nsrc[DETECT_SRC_BULWARK + 1];
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

static int
load_file(struct detect_ruleset *rs, const char *path, struct detect_load_report *rep, struct bw_err *err)
{
	struct bw_err ferr = { 0 };
	struct detect_rule *rule = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	if (rs->n == RULES_MAX)
		return bw_err_set(err, BW_ERANGE, "more than %d rules", RULES_MAX);
	if ((r = bw_file_read(path, DETECT_RULE_MAX_BYTES, &data, &len, &ferr)) == 0)
		r = detect_rule_compile((const char *)data, len, path, &rule, &ferr);
	free(data);
	if (r == BW_ENOMEM)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (r != 0)
		return report_add(rep, path, ferr.msg, NULL) == 0 ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct detect_rule **v = realloc(rs->rules, cap * sizeof *v);
		if (v == NULL) {
			detect_rule_free(rule);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		rs->rules = v;
		rs->cap = cap;
	}
	rs->rules[rs->n++] = rule;
	if (report_add(rep, path, NULL, detect_rule_never_fires(rule)) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	return 0;
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

	for (s = 0; s <= DETECT_SRC_BULWARK; s++)
		if ((rs->by_src[s] = calloc(rs->n + 1, sizeof *rs->by_src[s])) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < rs->n; i++) {
		s = (int)detect_rule_source(rs->rules[i]);
		rs->by_src[s][rs->nsrc[s]++] = i;
	}
	return 0;
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
	if (r == 0)
		r = index_sources(rs, err);
	if (r != 0) {
		detect_ruleset_free(rs);
		return r;
	}
	*out = rs;
	return 0;
}

size_t
detect_ruleset_match(const struct detect_ruleset *rs, enum detect_source src, const struct detect_event *ev,
		     detect_match_fn fn, void *ctx)
{
	struct ev_index x;
	size_t i, hits = 0;

	if ((unsigned)src > DETECT_SRC_BULWARK || src == DETECT_SRC_NONE || ev_index_build(&x, ev) != 0)
		return 0;
	for (i = 0; i < rs->nsrc[src]; i++) {
		const struct detect_rule *r = rs->rules[rs->by_src[src][i]];
		if (detect_rule_match_indexed(r, &x)) {
			hits++;
			if (fn != NULL)
				fn(ctx, r);
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
	for (i = 0; i <= DETECT_SRC_BULWARK; i++)
		free(rs->by_src[i]);
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
