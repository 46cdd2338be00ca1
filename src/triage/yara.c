/*
 * triage/yara.c: YARA (libyara) over every blob and member of a sample:
 * bulwark's rules for the lures (rules/yara, compiled in) and the
 * organisation's own (a directory). A match is a reason weighted by the
 * rule's "weight" meta (default 50), described by its "description", and
 * an indicator "yara" (namespace:rule) for sharing.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yara.h>

#include "triage_internal.h"

#define YARA_FILE_MAX ((size_t)4 << 20)
#define YARA_SCAN_TIMEOUT 30	/* seconds per blob */

struct compile_err {
	char msg[400];
	bool failed;
};

static void
on_compile(int level, const char *file, int line, const YR_RULE *rule, const char *message, void *ctx)
{
	struct compile_err *ce = ctx;

	(void)rule;
	if (level == YARA_ERROR_LEVEL_ERROR && !ce->failed) {
		snprintf(ce->msg, sizeof ce->msg, "%s:%d: %s", file ? file : "?", line, message);
		ce->failed = true;
	}
}

static bool
yara_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 4 && strcmp(n + l - 4, ".yar") == 0) || (l > 5 && strcmp(n + l - 5, ".yara") == 0);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The organisation's rule files, sorted (deterministic namespaces); each added under its own namespace. */
static int
add_dir(YR_COMPILER *c, const char *dir, struct compile_err *ce, struct bw_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **grown, path[4096];
	size_t n = 0, i;
	int r = 0;

	if (d == NULL)
		return bw_err_set(err, BW_EIO, "YARA rules directory %s cannot be read", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || !yara_name(e->d_name))
			continue;
		if ((grown = realloc(names, (n + 1) * sizeof *names)) == NULL || (grown[n] = strdup(e->d_name)) == NULL) {
			names = grown != NULL ? grown : names;
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			break;
		}
		names = grown;
		n++;
	}
	closedir(d);
	if (r == 0 && n > 0)
		qsort(names, n, sizeof *names, compare_names);
	for (i = 0; r == 0 && i < n; i++) {
		struct stat st;
		int fd;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (size_t)st.st_size > YARA_FILE_MAX) {
			r = bw_err_set(err, BW_EINVAL, "YARA rule %s: not a readable regular file of at most 4 MiB", path);
			if (fd >= 0)
				close(fd);
			break;
		}
		yr_compiler_set_callback(c, on_compile, ce);
		if (yr_compiler_add_fd(c, fd, names[i], path) != 0 || ce->failed)
			r = bw_err_set(err, BW_EINVAL, "YARA rules: %s", ce->msg);
		close(fd);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int
yara_load(struct triage *t, struct bw_err *err)
{
	YR_COMPILER *c = NULL;
	struct compile_err ce = { .msg = "" };
	size_t i;
	int r = 0;

	if (yr_initialize() != ERROR_SUCCESS)
		return bw_err_set(err, BW_ENOMEM, "libyara failed to initialise");
	t->yara_initialized = true;
	if (yr_compiler_create(&c) != ERROR_SUCCESS)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	yr_compiler_set_callback(c, on_compile, &ce);
	for (i = 0; r == 0 && triage_builtin_yara[i].name != NULL; i++)
		if (yr_compiler_add_string(c, triage_builtin_yara[i].text, "bulwark") != 0 || ce.failed)
			r = bw_err_set(err, BW_EINVAL, "bulwark's YARA rules %s: %s", triage_builtin_yara[i].name, ce.msg);
	if (r == 0 && t->o.yara_dir != NULL)
		r = add_dir(c, t->o.yara_dir, &ce, err);
	if (r == 0 && yr_compiler_get_rules(c, &t->rules) != ERROR_SUCCESS)
		r = bw_err_set(err, BW_ENOMEM, "out of memory compiling the YARA rules");
	yr_compiler_destroy(c);
	return r;
}

void
yara_unload(struct triage *t)
{
	if (t->rules != NULL)
		yr_rules_destroy(t->rules);
	t->rules = NULL;
	if (t->yara_initialized)
		yr_finalize();
	t->yara_initialized = false;
}

struct scan_ctx {
	struct walk *w;
	const char *where;
};

static int
on_scan(YR_SCAN_CONTEXT *context, int message, void *data, void *ctx)
{
	struct scan_ctx *s = ctx;
	const YR_RULE *rule = data;
	const YR_META *meta;
	const char *desc = NULL;
	int64_t weight = 50;
	char id[300];

	(void)context;
	if (message != CALLBACK_MSG_RULE_MATCHING)
		return CALLBACK_CONTINUE;
	yr_rule_metas_foreach(rule, meta) {
		if (strcmp(meta->identifier, "weight") == 0 && meta->type == META_TYPE_INTEGER)
			weight = meta->integer < 0 ? 0 : meta->integer > 100 ? 100 : meta->integer;
		else if (strcmp(meta->identifier, "description") == 0 && meta->type == META_TYPE_STRING)
			desc = meta->string;
	}
	snprintf(id, sizeof id, "%s:%s", rule->ns->name, rule->identifier);
	walk_reason(s->w, (int)weight, "yara", s->where, "YARA rule %s: %s", id, desc ? desc : "matched");
	walk_indicator(s->w, "yara", id);
	return CALLBACK_CONTINUE;
}

void
yara_scan(struct walk *w, const char *where, const uint8_t *data, size_t len)
{
	struct scan_ctx s = { w, where };
	int r;

	if (w->t->rules == NULL || len == 0)
		return;
	r = yr_rules_scan_mem(w->t->rules, data, len, SCAN_FLAGS_NO_TRYCATCH, on_scan, &s, YARA_SCAN_TIMEOUT);
	if (r == ERROR_SCAN_TIMEOUT)
		walk_reason(w, 10, "yara_timeout", where, "the YARA scan took longer than %d s", YARA_SCAN_TIMEOUT);
	else if (r != ERROR_SUCCESS)
		walk_reason(w, 0, "yara_error", where, "the YARA scan failed (error %d)", r);
}

static int
on_count(YR_SCAN_CONTEXT *context, int message, void *data, void *ctx)
{
	(void)context;
	(void)data;
	if (message == CALLBACK_MSG_RULE_MATCHING)
		(*(size_t *)ctx)++;
	return CALLBACK_CONTINUE;
}

int
triage_yara_count(struct triage *t, const uint8_t *data, size_t len, size_t *matches, struct bw_err *err)
{
	int r;

	*matches = 0;
	if (t->rules == NULL)
		return bw_err_set(err, BW_EINVAL, "no YARA rules loaded");
	if ((r = yr_rules_scan_mem(t->rules, data, len, SCAN_FLAGS_NO_TRYCATCH, on_count, matches, YARA_SCAN_TIMEOUT)) !=
	    ERROR_SUCCESS)
		return bw_err_set(err, BW_EIO, "YARA scan failed (error %d)", r);
	return 0;
}

/* ---- one rule's source, for sharing (pattern_type yara) ---- */

/*
 * The offset just past the block of rule `name` in text (from its "rule"
 * keyword at *start), skipping comments, strings and regular expressions;
 * false when there is no such rule or its braces do not close.
 */
static bool
rule_block(const char *text, size_t len, const char *name, size_t *start, size_t *end)
{
	size_t i = 0, nl = strlen(name), depth = 0, begin = 0;
	bool found = false;
	char prev = '\n';	/* the last significant character */

	while (i < len) {
		char c = text[i];
		if (c == '/' && i + 1 < len && text[i + 1] == '/') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}
		if (c == '/' && i + 1 < len && text[i + 1] == '*') {
			const char *e = strstr(text + i + 2, "*/");
			i = e != NULL ? (size_t)(e - text) + 2 : len;
			continue;
		}
		if (c == '"' || (c == '/' && (prev == '=' || prev == 'M'))) {	/* a string, or a regex after = or "matches" */
			char q = c;
			for (i++; i < len && text[i] != q && text[i] != '\n'; i++)
				if (text[i] == '\\')
					i++;
			i++;
			prev = 'x';
			continue;
		}
		if (depth == 0 && !found && c == 'r' && len - i > 5 + nl && strncmp(text + i, "rule", 4) == 0 &&
		    (i == 0 || !(isalnum((unsigned char)text[i - 1]) || text[i - 1] == '_')) &&
		    isspace((unsigned char)text[i + 4])) {
			size_t k = i + 4;
			while (k < len && isspace((unsigned char)text[k]))
				k++;
			if (len - k >= nl && strncmp(text + k, name, nl) == 0 &&
			    (k + nl == len || !(isalnum((unsigned char)text[k + nl]) || text[k + nl] == '_'))) {
				found = true;
				begin = i;
			}
		}
		if (c == '{')
			depth++;
		else if (c == '}' && depth > 0 && --depth == 0 && found) {
			*start = begin;
			*end = i + 1;
			return true;
		}
		if (!isspace((unsigned char)c))
			prev = (c == 's' && i >= 6 && strncmp(text + i - 6, "matches", 7) == 0) ? 'M' : c;
		i++;
	}
	return false;
}

/* The file's import lines (a shared rule needs its modules). */
static void
imports(const char *text, size_t len, struct bw_buf *out)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		if (e - i > 7 && strncmp(text + i, "import ", 7) == 0) {
			bw_buf_append(out, text + i, e - i);
			bw_buf_append_byte(out, '\n');
		}
		i = e + 1;
	}
}

/* Compiles text alone: true when it is one valid rule, *shareable from its meta (bulwark's rules always). */
static bool
compiles_alone(const char *text, bool builtin, bool *shareable)
{
	YR_COMPILER *c = NULL;
	YR_RULES *rules = NULL;
	YR_RULE *rule;
	struct compile_err ce = { .msg = "" };
	size_t n = 0;

	*shareable = builtin;
	if (yr_compiler_create(&c) != ERROR_SUCCESS)
		return false;
	yr_compiler_set_callback(c, on_compile, &ce);
	if (yr_compiler_add_string(c, text, "shared") != 0 || ce.failed || yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS) {
		yr_compiler_destroy(c);
		return false;
	}
	yr_compiler_destroy(c);
	yr_rules_foreach(rules, rule) {
		const YR_META *meta;
		n++;
		yr_rule_metas_foreach(rule, meta)
			if (strcmp(meta->identifier, "share") == 0 && meta->type == META_TYPE_BOOLEAN && meta->integer)
				*shareable = true;
	}
	yr_rules_destroy(rules);
	return n == 1;
}

int
triage_yara_rule_text(const char *yara_dir, const char *id, char **out, struct bw_err *err)
{
	const char *colon = id != NULL ? strchr(id, ':') : NULL;
	char ns[256], path[4400];
	uint8_t *file = NULL;
	const char *text = NULL;
	size_t len = 0, start, end, i;
	struct bw_buf b = { 0 };
	bool builtin, shareable = false;
	int r = 0;

	*out = NULL;
	if (colon == NULL || (size_t)(colon - id) >= sizeof ns || colon[1] == '\0')
		return bw_err_set(err, BW_EINVAL, "a YARA match is namespace:rule");
	snprintf(ns, sizeof ns, "%.*s", (int)(colon - id), id);
	builtin = strcmp(ns, "bulwark") == 0;
	if (builtin) {
		for (i = 0; triage_builtin_yara[i].name != NULL && text == NULL; i++)
			if (rule_block(triage_builtin_yara[i].text, strlen(triage_builtin_yara[i].text), colon + 1, &start, &end))
				text = triage_builtin_yara[i].text;
		len = text != NULL ? strlen(text) : 0;
	} else {
		if (yara_dir == NULL || !yara_name(ns) || strchr(ns, '/') != NULL || ns[0] == '.')
			return bw_err_set(err, BW_ENOTFOUND, "YARA rule %.300s: not one of the organisation's rule files", id);
		snprintf(path, sizeof path, "%s/%s", yara_dir, ns);
		if ((r = bw_file_read(path, YARA_FILE_MAX, &file, &len, err)) != 0)
			return r;
		text = (const char *)file;
	}
	if (text == NULL || !rule_block(text, len, colon + 1, &start, &end)) {
		free(file);
		return bw_err_set(err, BW_ENOTFOUND, "YARA rule %.300s: its source is not found", id);
	}
	imports(text, start, &b);
	if (bw_buf_append(&b, text + start, end - start) != 0 || bw_buf_append_byte(&b, '\n') != 0 ||
	    bw_buf_append_byte(&b, '\0') != 0) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	} else if (yr_initialize() != ERROR_SUCCESS) {
		r = bw_err_set(err, BW_ENOMEM, "libyara failed to initialise");
	} else {
		if (!compiles_alone((const char *)b.data, builtin, &shareable))
			r = bw_err_set(err, BW_ENOTSUP, "YARA rule %.300s does not compile on its own (it needs other rules)", id);
		else if (!shareable)
			r = bw_err_set(err, BW_EDENIED, "YARA rule %.300s is the organisation's and not marked share = true", id);
		yr_finalize();
	}
	free(file);
	if (r != 0) {
		bw_buf_free(&b);
		return r;
	}
	*out = (char *)b.data;
	return 0;
}
