/*
 * cli/config.c: the configuration file of `bulwark serve` (/etc/bulwark/bulwark.conf):
 * one setting a line, "key = value", the key a serve option's name without
 * its dashes; '#' starts a comment; a repeatable option is given once a
 * line. Options on the command line win over the file's. Unknown keys,
 * a value missing, a number that is not one, a file that is not there and
 * a single-valued key given twice are refused with the line named.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

enum kind { TEXT, NUMBER, FILE_PATH, DIR_PATH };

static const struct setting {
	const char *key;
	enum kind kind;
	bool repeat;
} settings[] = {
	{ "data", DIR_PATH, false },
	{ "listen", TEXT, false },
	{ "threads", NUMBER, false },
	{ "login-backoff-ms", NUMBER, false },
	{ "lock-after", NUMBER, false },
	{ "lock-secs", NUMBER, false },
	{ "timeout-secs", NUMBER, false },
	{ "max-window-secs", NUMBER, false },
	{ "session-wrapper", TEXT, false },	/* a path on the hosts, not here */
	{ "snapshot-lifetime-secs", NUMBER, false },
	{ "timestamp-lifetime-secs", NUMBER, false },
	{ "rules", DIR_PATH, false },
	{ "business-hours", TEXT, false },
	{ "host-silent-secs", NUMBER, false },
	{ "host-clock-max-secs", NUMBER, false },
	{ "host-retention-days", NUMBER, false },
	{ "log-key-rotate-days", NUMBER, false },
	{ "witness-log", TEXT, true },
	{ "witness-policy", FILE_PATH, false },
	{ "witness-interval-secs", NUMBER, false },
	{ "witness-timeout-secs", NUMBER, false },
	{ "witness-cacert", FILE_PATH, false },
	{ "org-domain", TEXT, true },
	{ "yara-dir", DIR_PATH, false },
	{ "triage-timeout-secs", NUMBER, false },
	{ "sample-retention-days", NUMBER, false },
	{ "webhook", TEXT, false },
	{ "webhook-secret-file", FILE_PATH, false },
	{ "webhook-cacert", FILE_PATH, false },
	{ "notify-level", TEXT, false },
	{ "smtp", TEXT, false },
	{ "smtp-from", TEXT, false },
	{ "smtp-cacert", FILE_PATH, false },
	{ "smtp-to", TEXT, true },
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const struct setting *
find(const char *key)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

void
config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->keys[i]);
		free(c->values[i]);
	}
	free(c->keys);
	free(c->values);
	free(c->lines);
	memset(c, 0, sizeof *c);
}

static int
add(struct config *c, const char *key, const char *value, size_t line, struct bw_err *err)
{
	char **k = realloc(c->keys, (c->n + 1) * sizeof *k), **v;
	size_t *l;

	if (k == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	c->keys = k;
	if ((v = realloc(c->values, (c->n + 1) * sizeof *v)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	c->values = v;
	if ((l = realloc(c->lines, (c->n + 1) * sizeof *l)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	c->lines = l;
	if ((c->keys[c->n] = strdup(key)) == NULL || (c->values[c->n] = strdup(value)) == NULL) {
		free(c->keys[c->n]);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	c->lines[c->n++] = line;
	return 0;
}

/* A value of its kind: numbers decimal, files and directories there. */
static int
value_ok(const char *path, size_t line, const struct setting *s, const char *v, struct bw_err *err)
{
	struct stat st;
	size_t i;

	if (*v == '\0')
		return bw_err_set(err, BW_EINVAL, "%s:%zu: %s has no value", path, line, s->key);
	if (s->kind == NUMBER) {
		for (i = 0; v[i] != '\0'; i++)
			if (!isdigit((unsigned char)v[i]) || i > 18)
				return bw_err_set(err, BW_EINVAL, "%s:%zu: %s must be a decimal number, not '%.60s'", path, line,
						  s->key, v);
	} else if (s->kind == FILE_PATH && (stat(v, &st) != 0 || !S_ISREG(st.st_mode))) {
		return bw_err_set(err, BW_EINVAL, "%s:%zu: %s: %.200s is not a file", path, line, s->key, v);
	} else if (s->kind == DIR_PATH && (stat(v, &st) != 0 || !S_ISDIR(st.st_mode))) {
		return bw_err_set(err, BW_EINVAL, "%s:%zu: %s: %.200s is not a directory", path, line, s->key, v);
	}
	return 0;
}

int
config_read(const char *path, struct config *c, struct bw_err *err)
{
	uint8_t *text = NULL;
	size_t len = 0, line = 0, i;
	char *p, *next;
	int r;

	memset(c, 0, sizeof *c);
	if ((r = bw_file_read(path, (size_t)1 << 20, &text, &len, err)) != 0)
		return r;
	if (memchr(text, '\0', len) != NULL) {
		free(text);
		return bw_err_set(err, BW_EINVAL, "%s: not a text file", path);
	}
	for (p = (char *)text; r == 0 && p != NULL && *p != '\0'; p = next) {
		char *eq, *key, *val, *end;
		const struct setting *s;
		line++;
		if ((next = strchr(p, '\n')) != NULL)
			*next++ = '\0';
		if ((end = strchr(p, '#')) != NULL)
			*end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			r = bw_err_set(err, BW_EINVAL, "%s:%zu: want \"key = value\"", path, line);
			break;
		}
		*eq = '\0';
		key = p;
		val = eq + 1;
		for (end = key + strlen(key); end > key && isspace((unsigned char)end[-1]); end--)
			;
		*end = '\0';
		while (isspace((unsigned char)*val))
			val++;
		for (end = val + strlen(val); end > val && isspace((unsigned char)end[-1]); end--)
			;
		*end = '\0';
		if ((s = find(key)) == NULL) {
			r = bw_err_set(err, BW_EINVAL, "%s:%zu: unknown key '%.60s' (keys: the options of bulwark serve, "
				       "without their dashes)", path, line, key);
			break;
		}
		for (i = 0; !s->repeat && i < c->n; i++)
			if (strcmp(c->keys[i], key) == 0)
				r = bw_err_set(err, BW_EINVAL, "%s:%zu: %s is given already on line %zu", path, line, key,
					       c->lines[i]);
		if (r == 0)
			r = value_ok(path, line, s, val, err);
		if (r == 0)
			r = add(c, key, val, line, err);
	}
	free(text);
	if (r != 0)
		config_free(c);
	return r;
}

int
config_argv(const struct config *c, int argc, char **argv, int *out_argc, char ***out_argv, struct bw_err *err)
{
	char **v = calloc((size_t)argc + 2 * c->n + 1, sizeof *v);
	size_t i;
	int k, n = 0;

	*out_argv = NULL;
	if (v == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	for (i = 0; i < c->n; i++) {
		char opt[80];
		bool given = false;
		snprintf(opt, sizeof opt, "--%s", c->keys[i]);
		for (k = 0; k < argc; k++)
			if (strcmp(argv[k], opt) == 0)
				given = true;	/* the command line wins (and replaces all of a repeatable option) */
		if (given)
			continue;
		if ((v[n++] = strdup(opt)) == NULL || (v[n++] = strdup(c->values[i])) == NULL) {
			config_argv_free(n, v);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	}
	for (k = 0; k < argc; k++)
		if ((v[n++] = strdup(argv[k])) == NULL) {
			config_argv_free(n, v);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	*out_argc = n;
	*out_argv = v;
	return 0;
}

void
config_argv_free(int argc, char **argv)
{
	int i;

	for (i = 0; argv != NULL && i < argc; i++)
		free(argv[i]);
	free(argv);
}

static const char config_usage[] =
    "usage: bulwark config check [FILE]   (default /etc/bulwark/bulwark.conf)\n"
    "\n"
    "Checks a configuration file of bulwark serve: one \"key = value\" a line, the key one of\n"
    "serve's options without its dashes ('#' comments; a repeatable option once a line);\n"
    "unknown keys, missing or malformed values, files or directories that are not there and a\n"
    "single-valued key given twice are refused with the line named. bulwark serve --config FILE\n"
    "reads it; options on the command line win over the file's. docs/OPERATIONS.md.\n";

int
cmd_config(int argc, char **argv)
{
	struct config c;
	struct bw_err err = { 0 };
	const char *path = "/etc/bulwark/bulwark.conf";
	size_t i;

	if (argc >= 1 && strcmp(argv[0], "--help") == 0) {
		fputs(config_usage, stdout);
		return CLI_OK;
	}
	if (argc < 1 || strcmp(argv[0], "check") != 0 || argc > 2) {
		fputs(config_usage, stderr);
		return CLI_USAGE;
	}
	if (argc == 2)
		path = argv[1];
	if (config_read(path, &c, &err) != 0)
		return cli_fail("config check", &err);
	for (i = 0; i < c.n; i++)
		printf("%s = %s\n", c.keys[i], c.values[i]);
	printf("%s: %zu settings, all known\n", path, c.n);
	config_free(&c);
	return CLI_OK;
}
