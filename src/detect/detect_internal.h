/* detect/detect_internal.h: the parts of the Sigma engine (internal to detect). */
#ifndef BW_DETECT_INTERNAL_H
#define BW_DETECT_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "detect.h"

/* ---- YAML as a tree (yaml_tree.c) ----------------------------------------------- */

enum ykind { Y_SCALAR, Y_MAP, Y_LIST };

struct ynode {
	enum ykind kind;
	int line;		/* 1-based */
	char *text;		/* scalar text (NUL-terminated) */
	size_t len;
	bool plain;		/* an unquoted scalar: null, true, false and numbers have their YAML meaning */
	size_t n;		/* map entries or list items */
	char **keys;		/* map keys */
	struct ynode **items;	/* map values or list items */
};

/*
 * Parses one YAML document (no aliases, no further documents, nesting and
 * size bounded) into a tree. Errors name the line. Caller frees with
 * ynode_free().
 */
int yaml_tree_parse(const char *text, size_t len, const char *name, struct ynode **out, struct bw_err *err);
/* Up to max documents of one file (YAML "---"); caller frees each with ynode_free() and the array with free(). */
int yaml_tree_parse_docs(const char *text, size_t len, const char *name, size_t max, struct ynode ***out, size_t *n,
			 struct bw_err *err);
void ynode_free(struct ynode *n);
/* The value of key in map (NULL when absent or not a map). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);
/* Is n a plain scalar meaning null (~, null, empty)? */
bool ynode_is_null(const struct ynode *n);

/* ---- value matchers (value.c) ------------------------------------------------------ */

enum match_op {
	M_GLOB,		/* pattern with literal bytes, ? and * (contains etc. add the stars) */
	M_RE,		/* PCRE2 search */
	M_CIDR,		/* network */
	M_EXISTS,	/* field present (or absent: want false) */
	M_NULL,		/* field absent or empty */
	M_NUM,		/* numeric comparison */
};

struct matcher {
	enum match_op op;
	bool cased;
	/* M_GLOB */
	uint8_t *pat;		/* literal bytes (lower-cased unless cased) */
	uint8_t *kind;		/* per byte: 0 literal, 1 '?', 2 '*' */
	size_t plen;
	/* the common shapes, matched without the general algorithm: lit = pat without its end stars */
	enum { SHAPE_GLOB, SHAPE_EXACT, SHAPE_PREFIX, SHAPE_SUFFIX, SHAPE_CONTAINS } shape;
	const uint8_t *lit;
	size_t llen;
	/* M_RE */
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	/* M_CIDR */
	int family;
	uint8_t net[16];
	unsigned prefix;
	/* M_EXISTS */
	bool want;
	/* M_NUM: -2 lt, -1 lte, 1 gte, 2 gt */
	int cmp;
	double num;
};

/*
 * Compiles the values of one field (or of a keyword list: field NULL) with
 * the modifiers mods (the "|a|b" suffix split) into matchers. *all
 * receives whether every value must match. Errors name the line.
 */
int matchers_compile(const struct ynode *values, char **mods, size_t nmods, bool keyword, const char *where,
		     struct matcher **out, size_t *n, bool *all, struct bw_err *err);
void matchers_free(struct matcher *m, size_t n);
/* Does the value (NULL: field absent) satisfy m? */
bool matcher_test(const struct matcher *m, const char *value, size_t len);

/* ---- expressions (rule.c, cond.c) ------------------------------------------------- */

enum expr_kind { E_AND, E_OR, E_NOT, E_FIELD, E_KEYWORD, E_REF };

struct expr {
	enum expr_kind kind;
	size_t n;
	struct expr **kids;	/* E_AND, E_OR, E_NOT; E_REF: kids[0] is a search identifier's (not owned) */
	char *field;		/* E_FIELD */
	uint32_t fhash;		/* field_hash(field) */
	struct matcher *m;	/* E_FIELD, E_KEYWORD */
	size_t nm;
	bool all;		/* every matcher must hold (|all) */
};

void expr_free(struct expr *e);

/* ---- an event indexed by field name (event_index.c) -------------------------------- */

#define EV_INDEX_INLINE 64	/* fields indexed without allocating */

/*
 * Built once per event, used by every rule: a field lookup is one hash
 * probe and one string compare instead of a scan of every field.
 */
struct ev_index {
	const struct detect_event *ev;
	uint32_t mask;
	int32_t *slot;		/* per bucket: the first field of one name, or -1 */
	int32_t *next;		/* per field: the next field of the same name, or -1 */
	uint32_t *hash;		/* per field */
	int32_t slot_inline[EV_INDEX_INLINE * 2];
	int32_t next_inline[EV_INDEX_INLINE];
	uint32_t hash_inline[EV_INDEX_INLINE];
	bool heap;
};

uint32_t field_hash(const char *name);

#define DETECT_FNV64_INIT 1469598103934665603ull
/* FNV-1a (64-bit) of n bytes, continuing from h (DETECT_FNV64_INIT to start): the engine's one hash of keys. */
static inline uint64_t
detect_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}
/* Indexes ev (borrowed). Returns 0 or BW_ENOMEM; release with ev_index_clear(). */
int ev_index_build(struct ev_index *x, const struct detect_event *ev);
void ev_index_clear(struct ev_index *x);
/* The first field named name (with hash h), or -1; ev_index_next() gives the others of that name. */
int32_t ev_index_find(const struct ev_index *x, const char *name, uint32_t h);
static inline int32_t
ev_index_next(const struct ev_index *x, int32_t i)
{
	return x->next[i];
}

bool expr_eval(const struct expr *e, const struct ev_index *x);
/* Can src's documents have a field of this name (host_views.c)? Always true for open sources (auditd, bulwark). */
bool detect_source_has_field(enum detect_source src, const char *name);
/* The fields of a log message's documents (log_views.c). */
bool detect_log_source_has_field(const char *name);
/* The fields of file_change and agent documents (log_views.c). */
bool detect_event_source_has_field(enum detect_source src, const char *name);
/* detect_rule_match over an event indexed once for many rules. */
bool detect_rule_match_indexed(const struct detect_rule *r, const struct ev_index *x);

/* A named search identifier of the detection section. */
struct search_id {
	char *name;
	struct expr *e;
};

/*
 * Parses a condition over the search identifiers into a new expression
 * whose leaves refer to (E_REF, not own) the identifiers' expressions.
 * Errors name the construct and where.
 */
int cond_parse(const char *text, const struct search_id *ids, size_t nids, const char *where, struct expr **out,
	       struct bw_err *err);

/* ---- rules (rule.c) and correlations (corr_rule.c, correlate.c) --------------------- */

enum corr_type { CORR_EVENT_COUNT, CORR_VALUE_COUNT, CORR_TEMPORAL, CORR_TEMPORAL_ORDERED };

#define CORR_RULES_MAX 32	/* rules one correlation refers to */
#define CORR_GROUP_BY_MAX 8
#define CORR_COUNT_MAX 4096	/* the largest count a condition may name */

/* One group-by field under another name in the events of one referenced rule (aliases). */
struct corr_alias {
	char *alias;
	char *rule;		/* a referenced rule's name */
	char *field;
};

struct correlation {
	enum corr_type type;
	char **refs;		/* as written: ids or names */
	size_t nrefs;
	struct detect_rule **rules;	/* resolved (borrowed from the rule set) */
	char **group_by;
	size_t ngroup;
	struct corr_alias *aliases;
	size_t naliases;
	int64_t timespan_ms;
	char *field;		/* value_count */
	/* the condition: each bound present holds (gt/gte/eq lower, lt/lte/eq upper) */
	bool has_min, has_max;
	uint32_t min, max;	/* count >= min, count <= max */
	bool generate;		/* the referenced rules also alert on their own */
};

struct detect_rule {
	char *title;
	char *id;
	char *name;		/* Sigma's `name` (for references), or NULL */
	enum detect_level level;
	enum detect_source source;
	char *never;		/* why it can never fire, or NULL */
	struct search_id *ids;
	size_t nids;
	struct expr *cond;
	struct correlation *corr;	/* a correlation rule (then no detection) */
	bool quiet;		/* referenced by a correlation without generate: raises no alert itself */
	size_t *users;		/* the correlations (indexes in the rule set) that refer to this rule */
	size_t nusers;
	size_t index;		/* in its rule set */
	size_t item;		/* its file's entry in the load report */
};

/* ---- the prefilter (prefilter.c) ------------------------------------------------- */

struct prefilter;
/* Indexes the rules rules[idx[0..n-1]] (one log source's) by their guards. BW_ENOMEM or 0. */
int prefilter_build(struct detect_rule *const *rules, const size_t *idx, size_t n, struct prefilter **out);
void prefilter_free(struct prefilter *pf);
/*
 * The rules (indexes, ascending, each once) that the event x could match,
 * into buf (cap entries): their count, or SIZE_MAX when more than cap (then
 * evaluate every rule of the source).
 */
size_t prefilter_candidates(const struct prefilter *pf, const struct ev_index *x, size_t *buf, size_t cap);
void prefilter_stats(const struct prefilter *pf, size_t *indexed, size_t *always);

/* Compiles one rule document (a detection or a correlation rule). Caller frees *out. */
int rule_compile_tree(const struct ynode *root, const char *name, struct detect_rule **out, struct bw_err *err);
/* The correlation section of root into r (title, id, level already set). Errors name the line. */
int corr_compile(const struct ynode *root, const char *name, struct detect_rule *r, struct bw_err *err);
void corr_free(struct correlation *c);

#endif
