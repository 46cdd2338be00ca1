/*
 * detect/cond.c: the condition of a Sigma detection.
 *
 *   expr   := term { "or" term }
 *   term   := factor { "and" factor }
 *   factor := "not" factor | "(" expr ")" | quant | identifier
 *   quant  := ("1" | "all") "of" (pattern | "them")
 *
 * Keywords are lower case, as the specification writes them; a pattern may
 * hold '*' wildcards; "them" is every search identifier not starting with
 * '_'. Sigma v1 aggregations ("| count() ...") are refused: they are
 * correlation rules in v2.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#define COND_DEPTH_MAX 64
#define COND_MAX 4096

struct cparse {
	const char *s;
	size_t pos;
	const char *where;
	const struct search_id *ids;
	size_t nids;
	int depth;
	struct bw_err *err;
	char tok[256];		/* the current token's text */
	enum { T_END, T_WORD, T_LP, T_RP, T_PIPE, T_BAD } t;
};

static void
lex(struct cparse *p)
{
	size_t n = 0;

	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
	p->tok[0] = '\0';
	switch (p->s[p->pos]) {
	case '\0':
		p->t = T_END;
		return;
	case '(':
		p->t = T_LP;
		p->pos++;
		strcpy(p->tok, "(");
		return;
	case ')':
		p->t = T_RP;
		p->pos++;
		strcpy(p->tok, ")");
		return;
	case '|':
		p->t = T_PIPE;
		strcpy(p->tok, "|");
		return;
	default:
		break;
	}
	while (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '_' || p->s[p->pos] == '*' ||
	       p->s[p->pos] == '-' || p->s[p->pos] == '.') {
		if (n + 1 < sizeof p->tok)
			p->tok[n++] = p->s[p->pos];
		p->pos++;
	}
	p->tok[n] = '\0';
	if (n == 0) {
		p->t = T_BAD;
		snprintf(p->tok, sizeof p->tok, "%c", p->s[p->pos]);
		return;
	}
	p->t = T_WORD;
}

static int
syntax(struct cparse *p, const char *what)
{
	if (p->t == T_END)
		return bw_err_set(p->err, BW_EINVAL, "%s: condition: %s at its end", p->where, what);
	return bw_err_set(p->err, BW_EINVAL, "%s: condition: %s at '%s' (character %zu)", p->where, what, p->tok,
			  p->pos + 1 - (p->t == T_WORD ? strlen(p->tok) : 1));
}

static struct expr *
node(enum expr_kind k)
{
	struct expr *e = calloc(1, sizeof *e);

	if (e != NULL)
		e->kind = k;
	return e;
}

static int
add_kid(struct expr *e, struct expr *kid)
{
	struct expr **k = realloc(e->kids, (e->n + 1) * sizeof *k);

	if (k == NULL)
		return BW_ENOMEM;
	e->kids = k;
	e->kids[e->n++] = kid;
	return 0;
}

static struct expr *
ref(const struct search_id *id)
{
	struct expr *e = node(E_REF);

	if (e == NULL)
		return NULL;
	if ((e->kids = malloc(sizeof *e->kids)) == NULL) {
		free(e);
		return NULL;
	}
	e->kids[0] = id->e;
	e->n = 1;
	return e;
}

/* Does name match the pattern (only '*' is special)? */
static bool
name_match(const char *pat, const char *name)
{
	const char *star = NULL, *mark = NULL;

	while (*name) {
		if (*pat == '*') {
			star = pat++;
			mark = name;
		} else if (*pat == *name) {
			pat++;
			name++;
		} else if (star) {
			pat = star + 1;
			name = ++mark;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static int parse_expr(struct cparse *p, struct expr **out);

static int
parse_quant(struct cparse *p, bool all, struct expr **out)
{
	struct expr *e = node(all ? E_AND : E_OR);
	bool them;
	size_t i;

	*out = NULL;
	lex(p);	/* "of" */
	if (p->t != T_WORD || strcmp(p->tok, "of") != 0) {
		free(e);
		return syntax(p, "expected 'of'");
	}
	lex(p);
	if (p->t != T_WORD) {
		free(e);
		return syntax(p, "expected a search identifier pattern or 'them'");
	}
	if (e == NULL)
		return bw_err_set(p->err, BW_ENOMEM, "out of memory");
	them = strcmp(p->tok, "them") == 0;
	for (i = 0; i < p->nids; i++) {
		struct expr *r;
		if (them ? p->ids[i].name[0] == '_' : !name_match(p->tok, p->ids[i].name))
			continue;
		if ((r = ref(&p->ids[i])) == NULL || add_kid(e, r) != 0) {
			free(r);
			expr_free(e);
			return bw_err_set(p->err, BW_ENOMEM, "out of memory");
		}
	}
	if (e->n == 0) {
		expr_free(e);
		return syntax(p, "no search identifier matches");
	}
	lex(p);
	*out = e;
	return 0;
}

static int
parse_factor(struct cparse *p, struct expr **out)
{
	size_t i;
	int r;

	*out = NULL;
	if (++p->depth > COND_DEPTH_MAX)
		return syntax(p, "nested too deeply");
	if (p->t == T_LP) {
		lex(p);
		if ((r = parse_expr(p, out)) != 0)
			return r;
		if (p->t != T_RP) {
			expr_free(*out);
			*out = NULL;
			return syntax(p, "expected ')'");
		}
		lex(p);
		p->depth--;
		return 0;
	}
	if (p->t == T_PIPE)
		return syntax(p, "aggregations ('| count() ...') are Sigma v1; write a correlation rule");
	if (p->t != T_WORD)
		return syntax(p, "expected a search identifier");
	if (strcmp(p->tok, "not") == 0) {
		struct expr *e = node(E_NOT), *kid;
		if (e == NULL)
			return bw_err_set(p->err, BW_ENOMEM, "out of memory");
		lex(p);
		if ((r = parse_factor(p, &kid)) != 0 || (r = add_kid(e, kid)) != 0) {
			if (r == BW_ENOMEM)
				expr_free(kid), bw_err_set(p->err, BW_ENOMEM, "out of memory");
			expr_free(e);
			return r;
		}
		*out = e;
		p->depth--;
		return 0;
	}
	if (strcmp(p->tok, "1") == 0 || strcmp(p->tok, "all") == 0) {
		r = parse_quant(p, p->tok[0] == 'a', out);
		p->depth--;
		return r;
	}
	if (strcmp(p->tok, "and") == 0 || strcmp(p->tok, "or") == 0 || strcmp(p->tok, "of") == 0 ||
	    strcmp(p->tok, "them") == 0)
		return syntax(p, "expected a search identifier");
	if (isdigit((unsigned char)p->tok[0]) || strcmp(p->tok, "any") == 0)
		return syntax(p, "only '1 of' and 'all of' are Sigma quantifiers");
	for (i = 0; i < p->nids; i++)
		if (strcmp(p->ids[i].name, p->tok) == 0)
			break;
	if (i == p->nids)
		return syntax(p, "unknown search identifier");
	if ((*out = ref(&p->ids[i])) == NULL)
		return bw_err_set(p->err, BW_ENOMEM, "out of memory");
	lex(p);
	p->depth--;
	return 0;
}

/* A chain of factors joined by op ("and") or of terms joined by "or". */
static int
parse_chain(struct cparse *p, bool is_or, struct expr **out)
{
	const char *op = is_or ? "or" : "and";
	struct expr *first = NULL, *e = NULL, *next;
	int r;

	*out = NULL;
	if ((r = is_or ? parse_chain(p, false, &first) : parse_factor(p, &first)) != 0)
		return r;
	while (p->t == T_WORD && strcmp(p->tok, op) == 0) {
		lex(p);
		if ((r = is_or ? parse_chain(p, false, &next) : parse_factor(p, &next)) != 0)
			goto fail;
		if (e == NULL) {
			if ((e = node(is_or ? E_OR : E_AND)) == NULL || add_kid(e, first) != 0) {
				expr_free(next);
				r = bw_err_set(p->err, BW_ENOMEM, "out of memory");
				goto fail;
			}
			first = NULL;
		}
		if (add_kid(e, next) != 0) {
			expr_free(next);
			r = bw_err_set(p->err, BW_ENOMEM, "out of memory");
			goto fail;
		}
	}
	*out = e != NULL ? e : first;
	return 0;
fail:
	expr_free(first);
	expr_free(e);
	return r;
}

static int
parse_expr(struct cparse *p, struct expr **out)
{
	return parse_chain(p, true, out);
}

int
cond_parse(const char *text, const struct search_id *ids, size_t nids, const char *where, struct expr **out,
	   struct bw_err *err)
{
	struct cparse p = { .s = text, .where = where, .ids = ids, .nids = nids, .err = err };
	int r;

	*out = NULL;
	if (strlen(text) > COND_MAX)
		return bw_err_set(err, BW_ERANGE, "%s: condition longer than %d characters", where, COND_MAX);
	lex(&p);
	if (p.t == T_END)
		return bw_err_set(err, BW_EINVAL, "%s: empty condition", where);
	if ((r = parse_expr(&p, out)) != 0)
		return r;
	if (p.t != T_END) {
		expr_free(*out);
		*out = NULL;
		return syntax(&p, p.t == T_PIPE ? "aggregations ('| count() ...') are Sigma v1; write a correlation rule"
						: "expected 'and', 'or' or the end");
	}
	return 0;
}
