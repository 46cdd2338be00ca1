/*
 * detect/value.c: Sigma values and modifiers compiled into matchers.
 *
 * A plain value matches the whole field, case-insensitively (ASCII), with
 * '*' (any run) and '?' (any one byte) as wildcards; '\' escapes '*', '?'
 * and '\' and is kept before any other character (as pySigma reads it).
 * contains/startswith/endswith add the stars; windash, base64 and
 * base64offset turn one value into several; re is a PCRE2 search (case-
 * sensitive unless |i) with match and depth limits; cidr, exists, null and
 * gt/gte/lt/lte test what their names say.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define RE_MATCH_LIMIT 100000	/* backtracking steps per match: no catastrophic backtracking */
#define RE_DEPTH_LIMIT 1000
#define VALUES_MAX 4096		/* values per field after expansion */

enum { K_LIT, K_ONE, K_ANY };

/* A Sigma string: bytes and, per byte, literal or wildcard. */
struct pstr {
	uint8_t *b, *k;
	size_t n, cap;
};

static int
pstr_put(struct pstr *s, uint8_t c, uint8_t kind)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		uint8_t *b = realloc(s->b, cap), *k;
		if (b == NULL)
			return BW_ENOMEM;
		s->b = b;
		if ((k = realloc(s->k, cap)) == NULL)
			return BW_ENOMEM;
		s->k = k;
		s->cap = cap;
	}
	s->b[s->n] = c;
	s->k[s->n++] = kind;
	return 0;
}

static void
pstr_free(struct pstr *s)
{
	free(s->b);
	free(s->k);
	memset(s, 0, sizeof *s);
}

static bool
pstr_has_wildcards(const struct pstr *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->k[i] != K_LIT)
			return true;
	return false;
}

/* After building s (r: the last put's result): an empty string still gets its (zero-length) arrays. */
static int
pstr_done(struct pstr *s, int r)
{
	if (r == 0 && s->b == NULL) {
		r = pstr_put(s, 0, K_LIT);
		s->n = 0;
	}
	return r;
}

/* Reads a Sigma string value (wildcards and escapes). */
static int
pstr_parse(const char *t, size_t len, struct pstr *out)
{
	size_t i;
	int r = 0;

	memset(out, 0, sizeof *out);
	for (i = 0; i < len && r == 0; i++) {
		uint8_t c = (uint8_t)t[i];
		if (c == '\\' && i + 1 < len && (t[i + 1] == '*' || t[i + 1] == '?' || t[i + 1] == '\\'))
			r = pstr_put(out, (uint8_t)t[++i], K_LIT);
		else if (c == '*')
			r = pstr_put(out, '*', K_ANY);
		else if (c == '?')
			r = pstr_put(out, '?', K_ONE);
		else
			r = pstr_put(out, c, K_LIT);
	}
	return pstr_done(out, r);
}

static int
pstr_literal(const uint8_t *b, size_t n, struct pstr *out)
{
	size_t i;
	int r = 0;

	memset(out, 0, sizeof *out);
	for (i = 0; i < n && r == 0; i++)
		r = pstr_put(out, b[i], K_LIT);
	return pstr_done(out, r);
}

/* ---- glob matching ------------------------------------------------------------ */

static inline uint8_t
fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Iterative wildcard match (the last star backtracks): O(len * plen) at worst, no recursion. */
static bool
glob_match(const struct matcher *m, const uint8_t *s, size_t n)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

	while (si < n) {
		if (pi < m->plen && m->kind[pi] == K_ANY) {
			star = pi++;
			mark = si;
		} else if (pi < m->plen &&
			   (m->kind[pi] == K_ONE || m->pat[pi] == (m->cased ? s[si] : fold(s[si])))) {
			pi++;
			si++;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < m->plen && m->kind[pi] == K_ANY)
		pi++;
	return pi == m->plen;
}

static bool
cidr_match(const struct matcher *m, const char *value, size_t len)
{
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t a[16];
	unsigned i, full, rest;

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, value, len);
	buf[len] = '\0';
	if (inet_pton(m->family, buf, a) != 1)
		return false;
	full = m->prefix / 8;
	rest = m->prefix % 8;
	for (i = 0; i < full; i++)
		if (a[i] != m->net[i])
			return false;
	return rest == 0 || ((a[full] ^ m->net[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool
num_match(const struct matcher *m, const char *value, size_t len)
{
	char buf[64], *end;
	double v;

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, value, len);
	buf[len] = '\0';
	v = strtod(buf, &end);
	if (*end != '\0' || v != v)
		return false;
	switch (m->cmp) {
	case -2: return v < m->num;
	case -1: return v <= m->num;
	case 1: return v >= m->num;
	default: return v > m->num;
	}
}

/* Equal bytes, folding the value's case unless cased (the literal is folded already). */
static inline bool
lit_eq(const struct matcher *m, const uint8_t *s, const uint8_t *lit, size_t n)
{
	size_t i;

	if (m->cased)
		return memcmp(s, lit, n) == 0;
	for (i = 0; i < n; i++)
		if (fold(s[i]) != lit[i])
			return false;
	return true;
}

static bool
shape_match(const struct matcher *m, const uint8_t *s, size_t n)
{
	size_t i, l = m->llen;

	switch (m->shape) {
	case SHAPE_EXACT:
		return n == l && lit_eq(m, s, m->lit, l);
	case SHAPE_PREFIX:
		return n >= l && lit_eq(m, s, m->lit, l);
	case SHAPE_SUFFIX:
		return n >= l && lit_eq(m, s + n - l, m->lit, l);
	default:	/* SHAPE_CONTAINS */
		if (l == 0)
			return true;
		if (n < l)
			return false;
		for (i = 0; i + l <= n; i++) {
			uint8_t c = m->cased ? s[i] : fold(s[i]);
			if (c == m->lit[0] && lit_eq(m, s + i + 1, m->lit + 1, l - 1))
				return true;
		}
		return false;
	}
}

bool
matcher_test(const struct matcher *m, const char *value, size_t len)
{
	switch (m->op) {
	case M_EXISTS:
		return (value != NULL) == m->want;
	case M_NULL:
		return value == NULL || len == 0;
	default:
		break;
	}
	if (value == NULL)
		return false;
	switch (m->op) {
	case M_GLOB:
		return m->shape == SHAPE_GLOB ? glob_match(m, (const uint8_t *)value, len)
					      : shape_match(m, (const uint8_t *)value, len);
	case M_RE:
		return pcre2_match(m->re, (PCRE2_SPTR)value, len, 0, 0, m->md, m->mctx) >= 0;
	case M_CIDR:
		return cidr_match(m, value, len);
	case M_NUM:
		return num_match(m, value, len);
	default:
		return false;
	}
}

void
matchers_free(struct matcher *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].pat);
		free(m[i].kind);
		pcre2_match_data_free(m[i].md);
		pcre2_match_context_free(m[i].mctx);
		pcre2_code_free(m[i].re);
	}
	free(m);
}

/* ---- modifiers ------------------------------------------------------------------- */

struct mods {
	enum { OP_EQ, OP_CONTAINS, OP_STARTS, OP_ENDS, OP_RE, OP_CIDR, OP_EXISTS, OP_NUM } op;
	int cmp;
	bool all, cased, windash, base64, base64offset;
	uint32_t re_flags;
};

static int
parse_mods(char **mods, size_t n, const char *where, struct mods *m, struct bw_err *err)
{
	static const struct {
		const char *name;
		int op, cmp;
	} ops[] = {
		{ "contains", OP_CONTAINS, 0 }, { "startswith", OP_STARTS, 0 }, { "endswith", OP_ENDS, 0 },
		{ "re", OP_RE, 0 }, { "cidr", OP_CIDR, 0 }, { "exists", OP_EXISTS, 0 },
		{ "lt", OP_NUM, -2 }, { "lte", OP_NUM, -1 }, { "gte", OP_NUM, 1 }, { "gt", OP_NUM, 2 },
	};
	size_t i, k;

	memset(m, 0, sizeof *m);
	for (i = 0; i < n; i++) {
		const char *x = mods[i];
		bool known = false;
		for (k = 0; k < sizeof ops / sizeof ops[0]; k++)
			if (strcmp(x, ops[k].name) == 0) {
				if (m->op != OP_EQ)
					return bw_err_set(err, BW_EINVAL, "%s: modifier '%s' after another matching modifier",
							  where, x);
				m->op = ops[k].op;
				m->cmp = ops[k].cmp;
				known = true;
			}
		if (known)
			continue;
		if (strcmp(x, "all") == 0)
			m->all = true;
		else if (strcmp(x, "cased") == 0)
			m->cased = true;
		else if (strcmp(x, "windash") == 0)
			m->windash = true;
		else if (strcmp(x, "base64") == 0)
			m->base64 = true;
		else if (strcmp(x, "base64offset") == 0)
			m->base64offset = true;
		else if (m->op == OP_RE && strcmp(x, "i") == 0)
			m->re_flags |= PCRE2_CASELESS;
		else if (m->op == OP_RE && strcmp(x, "m") == 0)
			m->re_flags |= PCRE2_MULTILINE;
		else if (m->op == OP_RE && strcmp(x, "s") == 0)
			m->re_flags |= PCRE2_DOTALL;
		else
			return bw_err_set(err, BW_EINVAL, "%s: unsupported modifier '%.40s'", where, x);
	}
	if ((m->base64 || m->base64offset) && (m->op == OP_RE || m->op == OP_CIDR || m->op == OP_EXISTS ||
					       m->op == OP_NUM || m->windash || (m->base64 && m->base64offset)))
		return bw_err_set(err, BW_EINVAL, "%s: base64 modifiers combine only with contains, startswith or endswith",
				  where);
	if (m->windash && (m->op == OP_RE || m->op == OP_CIDR || m->op == OP_EXISTS || m->op == OP_NUM))
		return bw_err_set(err, BW_EINVAL, "%s: windash combines only with string matching", where);
	if (m->cased && (m->op == OP_CIDR || m->op == OP_EXISTS || m->op == OP_NUM))
		return bw_err_set(err, BW_EINVAL, "%s: cased applies to string matching only", where);
	return 0;
}

/* ---- building the matchers --------------------------------------------------------- */

struct mlist {
	struct matcher *v;
	size_t n, cap;
};

static struct matcher *
mlist_new(struct mlist *l, struct bw_err *err)
{
	if (l->n == VALUES_MAX) {
		bw_err_set(err, BW_ERANGE, "more than %d values for one field", VALUES_MAX);
		return NULL;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct matcher *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL) {
			bw_err_set(err, BW_ENOMEM, "out of memory");
			return NULL;
		}
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	return &l->v[l->n++];
}

/* Recognises exact, prefix, suffix and contains patterns (stars only at the ends, no '?'). */
static void
classify_shape(struct matcher *m)
{
	size_t lo = 0, hi = m->plen, i;

	while (lo < hi && m->kind[lo] == K_ANY)
		lo++;
	while (hi > lo && m->kind[hi - 1] == K_ANY)
		hi--;
	m->shape = SHAPE_GLOB;
	for (i = lo; i < hi; i++)
		if (m->kind[i] != K_LIT)
			return;
	m->lit = m->pat + lo;
	m->llen = hi - lo;
	if (lo == 0 && hi == m->plen)
		m->shape = SHAPE_EXACT;
	else if (lo == 0)
		m->shape = SHAPE_PREFIX;
	else if (hi == m->plen)
		m->shape = SHAPE_SUFFIX;
	else
		m->shape = SHAPE_CONTAINS;
}

/* Adds a glob matcher for s wrapped per the operator (s is consumed). */
static int
add_glob(struct mlist *l, struct pstr *s, const struct mods *md, struct bw_err *err)
{
	struct pstr p = { 0 };
	struct matcher *m;
	size_t i;
	int r = 0;

	if (md->op == OP_CONTAINS || md->op == OP_ENDS)
		r = pstr_put(&p, '*', K_ANY);
	for (i = 0; i < s->n && r == 0; i++)
		r = pstr_put(&p, md->cased || s->k[i] != K_LIT ? s->b[i] : fold(s->b[i]), s->k[i]);
	if (r == 0 && (md->op == OP_CONTAINS || md->op == OP_STARTS))
		r = pstr_put(&p, '*', K_ANY);
	r = pstr_done(&p, r);
	pstr_free(s);
	if (r != 0 || (m = mlist_new(l, err)) == NULL) {
		pstr_free(&p);
		return r != 0 ? bw_err_set(err, BW_ENOMEM, "out of memory") : err->code;
	}
	m->op = M_GLOB;
	m->cased = md->cased;
	m->pat = p.b;
	m->kind = p.k;
	m->plen = p.n;
	classify_shape(m);
	return 0;
}

/* base64 of s's bytes (padded, as pySigma's base64), or cut as its base64offset does for offset off >= 0. */
static int
add_base64(struct mlist *l, const struct pstr *s, int off, const struct mods *md, struct bw_err *err)
{
	static const size_t start[3] = { 0, 2, 3 }, end_cut[3] = { 0, 3, 2 };
	size_t pad = off < 0 ? 0 : (size_t)off, n = s->n + pad, elen, from = 0, to;
	uint8_t *in = malloc(n + 1);
	char *enc;
	struct pstr p;
	int r;

	if (in == NULL || (enc = malloc(bw_base64_len(n) + 1)) == NULL) {
		free(in);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	memset(in, ' ', pad);
	memcpy(in + pad, s->b, s->n);
	bw_base64_encode(enc, in, n);
	elen = strlen(enc);
	to = elen;
	if (off >= 0) {
		/* Only the characters that do not depend on what surrounds the value. */
		from = start[off];
		to = elen - end_cut[(s->n + pad) % 3];
	}
	if (to < from)
		to = from;
	r = pstr_literal((const uint8_t *)enc + from, to - from, &p);
	free(in);
	free(enc);
	if (r != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	{
		struct mods cased = *md;
		cased.cased = true;	/* base64 is case-sensitive */
		return add_glob(l, &p, &cased, err);
	}
}

/* windash: every '-' or '/' that starts a word, as each of the dash forms Windows accepts. */
static int
add_windash(struct mlist *l, const struct pstr *s, const struct mods *md, struct bw_err *err)
{
	static const char *const dashes[] = { "-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95" };
	size_t d, i;

	for (d = 0; d < sizeof dashes / sizeof dashes[0]; d++) {
		struct pstr p = { 0 };
		int r = 0;
		for (i = 0; i < s->n && r == 0; i++) {
			bool flag = s->k[i] == K_LIT && (s->b[i] == '-' || s->b[i] == '/') &&
				    (i == 0 || (s->k[i - 1] == K_LIT && s->b[i - 1] == ' '));
			if (flag) {
				const char *q;
				for (q = dashes[d]; *q && r == 0; q++)
					r = pstr_put(&p, (uint8_t)*q, K_LIT);
			} else {
				r = pstr_put(&p, s->b[i], s->k[i]);
			}
		}
		if ((r = pstr_done(&p, r)) != 0) {
			pstr_free(&p);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		if ((r = add_glob(l, &p, md, err)) != 0)
			return r;
	}
	return 0;
}

static int
add_regex(struct mlist *l, const char *text, size_t len, const struct mods *md, const char *where,
	  struct bw_err *err)
{
	struct matcher *m;
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)text, len, md->re_flags | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code,
				       &off, NULL);

	if (re == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		return bw_err_set(err, BW_EINVAL, "%s: regular expression: %s at offset %zu", where, (char *)msg,
				  (size_t)off);
	}
	/*
	 * The interpreter serves when JIT is unavailable. Under valgrind it
	 * serves always: JIT code reads ahead in ways memcheck reports, and the
	 * interpreter gives the same answers.
	 */
	if (!RUNNING_ON_VALGRIND)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	if ((m = mlist_new(l, err)) == NULL) {
		pcre2_code_free(re);
		return err->code;
	}
	m->op = M_RE;
	m->re = re;
	if ((m->md = pcre2_match_data_create_from_pattern(re, NULL)) == NULL ||
	    (m->mctx = pcre2_match_context_create(NULL)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	pcre2_set_match_limit(m->mctx, RE_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, RE_DEPTH_LIMIT);
	return 0;
}

static int
add_cidr(struct mlist *l, const char *text, const char *where, struct bw_err *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	uint64_t prefix;
	struct matcher *m;
	int family;
	uint8_t net[16];
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);

	if (alen == 0 || alen >= sizeof addr)
		return bw_err_set(err, BW_EINVAL, "%s: '%.60s' is not a network (address/prefix)", where, text);
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, net) != 1)
		return bw_err_set(err, BW_EINVAL, "%s: '%.60s' is not a network (address/prefix)", where, text);
	prefix = family == AF_INET ? 32 : 128;
	if (slash != NULL && (bw_parse_u64(slash + 1, strlen(slash + 1), &prefix) != 0 ||
			      prefix > (family == AF_INET ? 32u : 128u)))
		return bw_err_set(err, BW_EINVAL, "%s: '%.60s' has a bad prefix length", where, text);
	if ((m = mlist_new(l, err)) == NULL)
		return err->code;
	m->op = M_CIDR;
	m->family = family;
	memcpy(m->net, net, sizeof net);
	m->prefix = (unsigned)prefix;
	return 0;
}

/* One value of a field through the modifiers. */
static int
add_value(struct mlist *l, const struct ynode *v, const struct mods *md, bool keyword, const char *where,
	  struct bw_err *err)
{
	struct pstr s;
	int r, k;

	if (v->kind != Y_SCALAR)
		return bw_err_set(err, BW_EINVAL, "%s:%d: a value must be a plain value, not a %s", where, v->line,
				  v->kind == Y_MAP ? "map" : "list");
	if (ynode_is_null(v)) {
		struct matcher *m;
		if (keyword || md->op != OP_EQ || md->windash || md->base64 || md->base64offset)
			return bw_err_set(err, BW_EINVAL, "%s:%d: null takes no modifiers%s", where, v->line,
					  keyword ? " and is no keyword" : "");
		if ((m = mlist_new(l, err)) == NULL)
			return err->code;
		m->op = M_NULL;
		return 0;
	}
	switch (md->op) {
	case OP_EXISTS: {
		struct matcher *m;
		bool t = strcmp(v->text, "true") == 0, f = strcmp(v->text, "false") == 0;
		if (!v->plain || (!t && !f))
			return bw_err_set(err, BW_EINVAL, "%s:%d: exists takes true or false", where, v->line);
		if (keyword)
			return bw_err_set(err, BW_EINVAL, "%s:%d: exists needs a field", where, v->line);
		if ((m = mlist_new(l, err)) == NULL)
			return err->code;
		m->op = M_EXISTS;
		m->want = t;
		return 0;
	}
	case OP_NUM: {
		struct matcher *m;
		char *end;
		double x = strtod(v->text, &end);
		if (v->len == 0 || *end != '\0' || x != x)
			return bw_err_set(err, BW_EINVAL, "%s:%d: '%.40s' is not a number", where, v->line, v->text);
		if ((m = mlist_new(l, err)) == NULL)
			return err->code;
		m->op = M_NUM;
		m->cmp = md->cmp;
		m->num = x;
		return 0;
	}
	case OP_RE: {
		char w[300];
		snprintf(w, sizeof w, "%s:%d", where, v->line);
		return add_regex(l, v->text, v->len, md, w, err);
	}
	case OP_CIDR: {
		char w[300];
		snprintf(w, sizeof w, "%s:%d", where, v->line);
		return add_cidr(l, v->text, w, err);
	}
	default:
		break;
	}
	if (pstr_parse(v->text, v->len, &s) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (md->base64 || md->base64offset) {
		if (pstr_has_wildcards(&s)) {
			pstr_free(&s);
			return bw_err_set(err, BW_EINVAL, "%s:%d: base64 of a value with wildcards", where, v->line);
		}
		r = 0;
		if (md->base64)
			r = add_base64(l, &s, -1, md, err);
		for (k = 0; md->base64offset && k < 3 && r == 0; k++)
			r = add_base64(l, &s, k, md, err);
		pstr_free(&s);
		return r;
	}
	if (md->windash) {
		r = add_windash(l, &s, md, err);
		pstr_free(&s);
		return r;
	}
	if (keyword && md->op == OP_EQ) {
		/* A keyword is found anywhere in the event's text. */
		struct mods c = *md;
		c.op = OP_CONTAINS;
		return add_glob(l, &s, &c, err);
	}
	return add_glob(l, &s, md, err);
}

int
matchers_compile(const struct ynode *values, char **mods, size_t nmods, bool keyword, const char *where,
		 struct matcher **out, size_t *n, bool *all, struct bw_err *err)
{
	struct mlist l = { 0 };
	struct mods md;
	char w[300];
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	snprintf(w, sizeof w, "%s:%d", where, values->line);
	if ((r = parse_mods(mods, nmods, w, &md, err)) != 0)
		return r;
	*all = md.all;
	if (values->kind == Y_LIST) {
		if (values->n == 0)
			return bw_err_set(err, BW_EINVAL, "%s:%d: an empty list of values", where, values->line);
		for (i = 0; i < values->n && r == 0; i++)
			r = add_value(&l, values->items[i], &md, keyword, where, err);
	} else {
		r = add_value(&l, values, &md, keyword, where, err);
	}
	if (r != 0) {
		matchers_free(l.v, l.n);
		return r;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}
