/*
 * witness/policy.c: the C2SP tlog-policy format (which logs, which
 * witnesses, which groups of them, and the quorum a cosigned checkpoint
 * needs), parsed strictly with errors naming the line, and checked against
 * a signed checkpoint.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "witness.h"

#define NAME_MAX_LEN 256

struct member {
	bool group;		/* a group, else a witness */
	size_t i;
};

struct pgroup {
	char *name;
	size_t k;		/* members needed */
	struct member m[WITNESS_POLICY_MAX];
	size_t n;
};

struct pwitness {
	char *name;
	struct note_verifier *key;
	char *url;
};

struct plog {
	struct note_verifier *key;	/* its name is the log's origin */
	char *url;
};

struct witness_policy {
	struct plog logs[WITNESS_POLICY_MAX];
	size_t nlogs;
	struct pwitness w[WITNESS_POLICY_MAX];
	size_t nw;
	struct pgroup g[WITNESS_POLICY_MAX];
	size_t ng;
	bool have_quorum, quorum_none;
	struct member quorum;
};

void
witness_policy_free(struct witness_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlogs; i++) {
		note_verifier_free(p->logs[i].key);
		free(p->logs[i].url);
	}
	for (i = 0; i < p->nw; i++) {
		free(p->w[i].name);
		note_verifier_free(p->w[i].key);
		free(p->w[i].url);
	}
	for (i = 0; i < p->ng; i++)
		free(p->g[i].name);
	free(p);
}

static int
line_err(struct bw_err *err, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
line_err(struct bw_err *err, size_t line, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return bw_err_set(err, BW_EINVAL, "policy line %zu: %s", line, msg);
}

/* A witness or group of this name, defined above. */
static bool
find_name(const struct witness_policy *p, const char *name, struct member *out)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (strcmp(p->w[i].name, name) == 0) {
			*out = (struct member){ false, i };
			return true;
		}
	for (i = 0; i < p->ng; i++)
		if (strcmp(p->g[i].name, name) == 0) {
			*out = (struct member){ true, i };
			return true;
		}
	return false;
}

static bool
same_key(const struct note_verifier *a, const struct note_verifier *b)
{
	return memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

static bool
key_used(const struct witness_policy *p, const struct note_verifier *v)
{
	size_t i;

	for (i = 0; i < p->nlogs; i++)
		if (same_key(p->logs[i].key, v))
			return true;
	for (i = 0; i < p->nw; i++)
		if (same_key(p->w[i].key, v))
			return true;
	return false;
}

static bool
name_ok(const char *s)
{
	return strlen(s) <= NAME_MAX_LEN && strcmp(s, "none") != 0;
}

/* One line's tokens (at most 2 + WITNESS_POLICY_MAX), split on spaces and tabs, NULs written into it. */
static int
line_parse(struct witness_policy *p, char *s, size_t lineno, struct bw_err *err)
{
	char *tok[2 + WITNESS_POLICY_MAX + 1];
	size_t n = 0, i;
	struct note_verifier *v = NULL;
	int r;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			*s++ = '\0';
		if (*s == '\0')
			break;
		if (n == sizeof tok / sizeof tok[0])
			return line_err(err, lineno, "too many items");
		tok[n++] = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
	}
	if (n == 0)
		return 0;
	if (strcmp(tok[0], "log") == 0) {
		if (n < 2 || n > 3)
			return line_err(err, lineno, "want \"log VKEY [URL]\"");
		if (p->nlogs == WITNESS_POLICY_MAX)
			return line_err(err, lineno, "more than %d logs", WITNESS_POLICY_MAX);
		if ((r = note_verifier_parse(tok[1], strlen(tok[1]), &v, err)) != 0)
			return bw_err_prefix(err, "policy line %zu", lineno), r;
		if (v->alg != NOTE_ALG_ED25519 || key_used(p, v)) {
			bool dup = v->alg == NOTE_ALG_ED25519;
			note_verifier_free(v);
			return line_err(err, lineno, dup ? "this key is named twice" : "a log's key is of type 0x01 (Ed25519)");
		}
		p->logs[p->nlogs].key = v;
		if (n == 3 && (p->logs[p->nlogs].url = strdup(tok[2])) == NULL) {
			note_verifier_free(v);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		p->nlogs++;
		return 0;
	}
	if (strcmp(tok[0], "witness") == 0) {
		struct member m;
		if (n < 3 || n > 4)
			return line_err(err, lineno, "want \"witness NAME VKEY [URL]\"");
		if (!name_ok(tok[1]) || find_name(p, tok[1], &m))
			return line_err(err, lineno, "the name \"%.64s\" is taken, reserved or too long", tok[1]);
		if (p->nw == WITNESS_POLICY_MAX)
			return line_err(err, lineno, "more than %d witnesses", WITNESS_POLICY_MAX);
		if ((r = note_verifier_parse(tok[2], strlen(tok[2]), &v, err)) != 0)
			return bw_err_prefix(err, "policy line %zu", lineno), r;
		if (v->alg != NOTE_ALG_COSIGNATURE_V1 || key_used(p, v)) {
			bool dup = v->alg == NOTE_ALG_COSIGNATURE_V1;
			note_verifier_free(v);
			return line_err(err, lineno, dup ? "this key is named twice"
							 : "a witness's key is of type 0x04 (cosignature/v1)");
		}
		p->w[p->nw].key = v;
		if ((p->w[p->nw].name = strdup(tok[1])) == NULL ||
		    (n == 4 && (p->w[p->nw].url = strdup(tok[3])) == NULL)) {
			p->nw++;
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		p->nw++;
		return 0;
	}
	if (strcmp(tok[0], "group") == 0) {
		struct pgroup *g;
		struct member m;
		uint64_t k = 0;
		if (n < 4)
			return line_err(err, lineno, "want \"group NAME all|any|K MEMBER...\"");
		if (!name_ok(tok[1]) || find_name(p, tok[1], &m))
			return line_err(err, lineno, "the name \"%.64s\" is taken, reserved or too long", tok[1]);
		if (p->ng == WITNESS_POLICY_MAX)
			return line_err(err, lineno, "more than %d groups", WITNESS_POLICY_MAX);
		g = &p->g[p->ng];
		memset(g, 0, sizeof *g);
		for (i = 3; i < n; i++) {
			size_t j;
			if (strcmp(tok[i], "none") == 0)
				return line_err(err, lineno, "none cannot be a member");
			if (!find_name(p, tok[i], &m))
				return line_err(err, lineno, "\"%.64s\" is not a witness or group defined above", tok[i]);
			for (j = 0; j < g->n; j++)
				if (g->m[j].group == m.group && g->m[j].i == m.i)
					return line_err(err, lineno, "\"%.64s\" is named twice in the group", tok[i]);
			g->m[g->n++] = m;
		}
		if (strcmp(tok[2], "all") == 0)
			g->k = g->n;
		else if (strcmp(tok[2], "any") == 0)
			g->k = 1;
		else if (bw_parse_u64(tok[2], strlen(tok[2]), &k) != 0 || k < 1 || k > g->n ||
			 (tok[2][0] == '0'))
			return line_err(err, lineno, "the threshold must be all, any or 1 to %zu", g->n);
		else
			g->k = (size_t)k;
		if ((g->name = strdup(tok[1])) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		p->ng++;
		return 0;
	}
	if (strcmp(tok[0], "quorum") == 0) {
		if (n != 2)
			return line_err(err, lineno, "want \"quorum NAME\" or \"quorum none\"");
		if (p->have_quorum)
			return line_err(err, lineno, "a second quorum");
		p->have_quorum = true;
		if (strcmp(tok[1], "none") == 0)
			p->quorum_none = true;
		else if (!find_name(p, tok[1], &p->quorum))
			return line_err(err, lineno, "\"%.64s\" is not a witness or group defined above", tok[1]);
		return 0;
	}
	return line_err(err, lineno, "unknown keyword \"%.32s\" (log, witness, group, quorum)", tok[0]);
}

int
witness_policy_parse(const char *text, size_t len, struct witness_policy **out, struct bw_err *err)
{
	struct witness_policy *p;
	char *buf;
	size_t i, start = 0, lineno = 1;
	int r = 0;

	*out = NULL;
	if (len > WITNESS_POLICY_TEXT_MAX)
		return bw_err_set(err, BW_ERANGE, "policy larger than %d bytes", WITNESS_POLICY_TEXT_MAX);
	for (i = 0; i < len; i++) {
		uint8_t c = (uint8_t)text[i];
		if (c == '\n')
			lineno++;
		else if (c != '\t' && (c < 0x20 || c == 0x7f))
			return bw_err_set(err, BW_EINVAL, "policy line %zu: a control byte 0x%02x", lineno, c);
	}
	if ((p = calloc(1, sizeof *p)) == NULL || (buf = malloc(len + 1)) == NULL) {
		free(p);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	lineno = 1;
	for (i = 0; r == 0 && i <= len; i++) {
		if (i < len && buf[i] != '\n')
			continue;
		buf[i] = '\0';
		{
			char *hash = strchr(buf + start, '#');
			if (hash != NULL)
				*hash = '\0';	/* a comment to the end of the line */
		}
		r = line_parse(p, buf + start, lineno, err);
		start = i + 1;
		lineno++;
	}
	free(buf);
	if (r == 0 && !p->have_quorum)
		r = bw_err_set(err, BW_EINVAL, "policy: no quorum line");
	if (r == 0 && p->nlogs == 0)
		r = bw_err_set(err, BW_EINVAL, "policy: no log line");
	if (r != 0) {
		witness_policy_free(p);
		return r;
	}
	*out = p;
	return 0;
}

/* Is member m satisfied, given which witnesses cosigned? */
static bool
satisfied(const struct witness_policy *p, struct member m, const bool *cosigned, int depth)
{
	const struct pgroup *g;
	size_t i, have = 0;

	if (!m.group)
		return cosigned[m.i];
	if (depth > (int)WITNESS_POLICY_MAX)
		return false;	/* (cannot happen: groups name only earlier ones) */
	g = &p->g[m.i];
	for (i = 0; i < g->n; i++)
		have += satisfied(p, g->m[i], cosigned, depth + 1);
	return have >= g->k;
}

static int
check(const struct witness_policy *p, const struct note *n, const char *origin, bool log_signature, char *why,
      size_t cap)
{
	bool cosigned[WITNESS_POLICY_MAX] = { false };
	struct bw_err e = { 0 };
	size_t i, count = 0;

	for (i = 0; i < p->nlogs && strcmp(p->logs[i].key->name, origin) != 0; i++)
		;
	if (i == p->nlogs) {
		snprintf(why, cap, "the policy names no log %.200s", origin);
		return BW_EVERIFY;
	}
	if (log_signature && note_verify(n, &p->logs[i].key, 1, NULL, NULL, &e) != 0) {
		snprintf(why, cap, "the log's signature: %.200s", e.msg);
		return BW_EVERIFY;
	}
	for (i = 0; i < p->nw; i++) {
		struct bw_err we = { 0 };
		cosigned[i] = note_verify(n, &p->w[i].key, 1, NULL, NULL, &we) == 0;
		count += cosigned[i];
	}
	if (p->quorum_none || satisfied(p, p->quorum, cosigned, 0)) {
		snprintf(why, cap, "quorum met (%zu of %zu witnesses cosigned)", count, p->nw);
		return 0;
	}
	snprintf(why, cap, "quorum not met: %zu of %zu witnesses cosigned, the policy's quorum \"%s\" needs more", count,
		 p->nw, p->quorum.group ? p->g[p->quorum.i].name : p->w[p->quorum.i].name);
	return BW_EVERIFY;
}

int
witness_policy_check(const struct witness_policy *p, const struct note *n, const char *origin, char *why, size_t cap)
{
	return check(p, n, origin, true, why, cap);
}

int
witness_policy_check_quorum(const struct witness_policy *p, const struct note *n, const char *origin, char *why,
			    size_t cap)
{
	return check(p, n, origin, false, why, cap);
}

size_t
witness_policy_witnesses(const struct witness_policy *p)
{
	return p->nw;
}

void
witness_policy_witness(const struct witness_policy *p, size_t i, const char **name, const struct note_verifier **key,
		       const char **url)
{
	*name = p->w[i].name;
	*key = p->w[i].key;
	*url = p->w[i].url;
}

const struct note_verifier *
witness_policy_log(const struct witness_policy *p, const char *origin)
{
	size_t i;

	for (i = 0; i < p->nlogs; i++)
		if (strcmp(p->logs[i].key->name, origin) == 0)
			return p->logs[i].key;
	return NULL;
}
