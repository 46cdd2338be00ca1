/* cli/args.c: option parsing and input helpers shared by subcommands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crypto/crypto.h"

void
cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("bulwark: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_fail(const char *what, const struct bw_err *err)
{
	cli_errorf("%s: %s", what, err->msg[0] ? err->msg : bw_strerror(err->code));
	return CLI_FAIL;
}

void
cli_args_init(struct cli_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof *a);
	a->given = argc;
	a->argc = argc < (int)sizeof a->used ? argc : (int)sizeof a->used;
	a->argv = argv;
}

/* Refuses (prints, -1) an argument list longer than the parser holds: nothing is silently dropped. */
static int
too_many(const struct cli_args *a)
{
	if (a->given <= a->argc)
		return 0;
	cli_errorf("too many arguments (%d; at most %d)", a->given, CLI_ARGS_MAX);
	return -1;
}

int
cli_opt_all(struct cli_args *a, const char *name, const char **vals, size_t cap, size_t *n)
{
	int i;

	*n = 0;
	if (too_many(a))
		return -1;
	for (i = 0; i < a->argc; i++) {
		if (a->used[i] || strcmp(a->argv[i], name) != 0)
			continue;
		if (i + 1 >= a->argc) {
			cli_errorf("option %s needs a value", name);
			return -1;
		}
		if (*n == cap) {
			if (cap == 1)
				cli_errorf("option %s given more than once", name);
			else
				cli_errorf("option %s given more than %zu times", name, cap);
			return -1;
		}
		a->used[i] = a->used[i + 1] = 1;
		vals[(*n)++] = a->argv[i + 1];
		i++;
	}
	return 0;
}

int
cli_opt(struct cli_args *a, const char *name, const char **value)
{
	size_t n;

	*value = NULL;
	return cli_opt_all(a, name, value, 1, &n);
}

int
cli_opt_or(struct cli_args *a, const char *name, const char **value, const char *fallback)
{
	int r = cli_opt(a, name, value);

	if (r == 0 && *value == NULL)
		*value = fallback;
	return r;
}

int
cli_flag(struct cli_args *a, const char *name)
{
	int i, found = 0;

	for (i = 0; i < a->argc; i++)
		if (!a->used[i] && strcmp(a->argv[i], name) == 0) {
			a->used[i] = 1;
			found = 1;
		}
	return found;
}

int
cli_positional(struct cli_args *a, char **pos, size_t cap, size_t *n)
{
	int i;

	*n = 0;
	if (too_many(a))
		return -1;
	for (i = 0; i < a->argc; i++) {
		if (a->used[i])
			continue;
		if (strncmp(a->argv[i], "--", 2) == 0 && a->argv[i][2] != '\0') {
			cli_errorf("unknown option %s", a->argv[i]);
			return -1;
		}
		if (*n == cap) {
			cli_errorf("too many arguments (at most %zu)", cap);
			return -1;
		}
		pos[(*n)++] = a->argv[i];
	}
	return 0;
}

int
cli_parse_u64(const char *opt, const char *s, uint64_t *out)
{
	if (bw_parse_u64(s, strlen(s), out) != 0) {
		cli_errorf("%s: '%s' is not a decimal number (no sign, no leading zeros)", opt, s);
		return -1;
	}
	return 0;
}

int
cli_parse_range(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (cli_parse_u64(opt, s, out) != 0)
		return -1;
	if (*out < min || *out > max) {
		cli_errorf("%s must be %llu..%llu", opt, (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

int
cli_read_stdin(size_t max, uint8_t **out, size_t *len, struct bw_err *err)
{
	return bw_file_read("/dev/stdin", max, out, len, err);
}

int
cli_read_input(const char *path, size_t max, uint8_t **out, size_t *len, struct bw_err *err)
{
	if (path == NULL || strcmp(path, "-") == 0)
		return cli_read_stdin(max, out, len, err);
	return bw_file_read(path, max, out, len, err);
}

int
cli_read_key(const char *arg, char **out, struct bw_err *err)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	/* Key texts contain '+'; paths we create do not need to. */
	if (access(arg, R_OK) != 0 && strchr(arg, '+') != NULL) {
		size_t n = strlen(arg);
		if ((*out = bw_secure_alloc(n + 1)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of secure memory");
		memcpy(*out, arg, n + 1);
		return 0;
	}
	if ((r = bw_file_read_secret(arg, 64 * 1024, &data, &len, err)) != 0)
		return r;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		data[--len] = '\0';
	if (memchr(data, '\n', len) != NULL) {
		bw_secure_free(data);
		return bw_err_set(err, BW_EINVAL, "key file %s must hold exactly one line", arg);
	}
	*out = (char *)data;
	return 0;
}

int
cli_load_verifier(const char *arg, struct note_verifier **out, struct bw_err *err)
{
	char *k = NULL;
	int r;

	*out = NULL;
	if ((r = cli_read_key(arg, &k, err)) == 0)
		r = note_verifier_parse(k, strlen(k), out, err);
	bw_secure_free(k);
	return r;
}

int
cli_load_signer(const char *arg, struct note_signer **out, struct bw_err *err)
{
	char *k = NULL;
	int r;

	*out = NULL;
	if ((r = cli_read_key(arg, &k, err)) == 0)
		r = note_signer_parse(k, strlen(k), out, err);
	bw_secure_free(k);	/* wiped */
	return r;
}
