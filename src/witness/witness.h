/*
 * witness: bulwark as a C2SP tlog-witness (c2sp.org/tlog-witness): the
 * add-checkpoint request, and the checks that decide whether a checkpoint is
 * cosigned, with the spec's status codes. Whoever serves it keeps the state
 * (the latest cosigned size and root per log) and updates it atomically and
 * durably before answering.
 */
#ifndef BW_WITNESS_H
#define BW_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "note/note.h"
#include "tlog/tlog.h"

#define WITNESS_PROOF_MAX 63		/* consistency-proof lines a request may carry */
#define WITNESS_BODY_MAX (NOTE_MAX_SIZE + 8192)

/* POST add-checkpoint: "old N\n", proof lines, an empty line, the signed checkpoint. */
struct witness_request {
	uint64_t old;
	struct tlog_proof proof;
	const uint8_t *note;		/* borrowed from the body */
	size_t note_len;
};
/* Strict parse; errors name the line. */
int witness_request_parse(const uint8_t *body, size_t len, struct witness_request *out, struct bw_err *err);

/* A log this witness witnesses: its origin and its key (type 0x01). */
struct witness_log {
	const char *origin;
	struct note_verifier *key;
};

/* What the witness last cosigned for a log (size 0, the empty tree's root, when never). */
struct witness_seen {
	uint64_t size;
	struct tlog_hash root;
};

/* The outcome of a request, by the spec's status codes. */
struct witness_decision {
	unsigned status;		/* 200 cosign; 400, 403, 404, 409, 422 refuse */
	uint64_t known_size;		/* 409: the size to answer with (text/x.tlog.size) */
	char reason[300];		/* refusals: why */
	size_t log;			/* the log's index in logs (from 403 on) */
	struct tlog_checkpoint cp;	/* parsed (from 403 on); clear with witness_decision_clear */
	struct note *note;		/* the checkpoint note parsed (from 403 on): what a cosignature signs */
	/*
	 * The log's key signed this checkpoint and, for the same size, the one
	 * cosigned before with another root: proof of a fork, to keep with the
	 * earlier checkpoint. (A failing proof is no such proof: checkpoints are
	 * public, and anyone can send a genuine one with a wrong proof.)
	 */
	bool fork;
};
void witness_decision_clear(struct witness_decision *d);

/*
 * Checks request q against the logs this witness knows and seen, the state
 * of the checkpoint's log (seen_fn fills it by origin; it is called once,
 * after the signature verified): 404 unknown origin; 403 no valid
 * signature of the log's key (or a line of that key that does not
 * verify); 400 old > size; 409 old is not the size last cosigned; 422 a
 * proof that does not verify, a non-empty proof from 0, a size-0 tree
 * whose root is not SHA-256(""), or the size last cosigned with another
 * root; else 200: the caller stores (size, root) if old is still the size
 * stored (compare and swap), then cosigns. Returns non-zero only when it
 * could not decide (out of memory, seen_fn failed).
 */
typedef int (*witness_seen_fn)(void *ctx, size_t log, struct witness_seen *out, struct bw_err *err);
int witness_check(const struct witness_request *q, const struct witness_log *logs, size_t nlogs, witness_seen_fn seen_fn,
		  void *ctx, struct witness_decision *d, struct bw_err *err);

/* ---- trust policy (c2sp.org/tlog-policy; policy.c) ---- */

#define WITNESS_POLICY_MAX 64		/* logs, witnesses, groups, members of a group (each) */
#define WITNESS_POLICY_TEXT_MAX (256 * 1024)

struct witness_policy;
/*
 * Parses a policy: "log VKEY [URL]" (type 0x01; its name is the origin),
 * "witness NAME VKEY [URL]" (type 0x04), "group NAME all|any|K MEMBER...",
 * exactly one "quorum NAME|none"; '#' comments; members and the quorum name
 * witnesses or groups defined above, each once; no key twice. Errors name
 * the line. Caller frees with witness_policy_free().
 */
int witness_policy_parse(const char *text, size_t len, struct witness_policy **out, struct bw_err *err);
void witness_policy_free(struct witness_policy *p);
/*
 * Does n, a checkpoint of origin, carry the log's valid signature and
 * cosignatures meeting the quorum? 0 or BW_EVERIFY; why (cap bytes) says
 * which, counting the witnesses that cosigned.
 */
int witness_policy_check(const struct witness_policy *p, const struct note *n, const char *origin, char *why,
			 size_t cap);
/*
 * witness_policy_check without the log's signature, which the caller
 * verified with the key for the checkpoint's size (after a key transition
 * the policy's log line may name an earlier key of the log): the
 * cosignatures only.
 */
int witness_policy_check_quorum(const struct witness_policy *p, const struct note *n, const char *origin, char *why,
				size_t cap);
/* The policy's witnesses: how many, and the i-th's name, key and URL (NULL: none given), borrowed. */
size_t witness_policy_witnesses(const struct witness_policy *p);
void witness_policy_witness(const struct witness_policy *p, size_t i, const char **name,
			    const struct note_verifier **key, const char **url);
/* The key of the policy's log of origin (borrowed), NULL when it names none. */
const struct note_verifier *witness_policy_log(const struct witness_policy *p, const char *origin);

/* ---- the log side: asking a witness (submit.c) ---- */

/*
 * The add-checkpoint body for note (a checkpoint of size entries, signed by
 * the log): "old OLD", the consistency proof from OLD to size read from t
 * (none when OLD is 0 or size), an empty line, the note. Into out (reset).
 */
int witness_submission_format(struct bw_sha256 *h, struct tlog_tiles *t, uint64_t old, uint64_t size, const uint8_t *note,
			      size_t len, struct bw_buf *out, struct bw_err *err);
/*
 * The lines of answer (alen bytes) that are cosignatures of key over note
 * and verify, appended to out; returns how many.
 */
size_t witness_cosigs_keep(const uint8_t *note, size_t len, const char *answer, size_t alen, const struct note_verifier *key,
			   struct bw_buf *out);

enum witness_answer_kind {
	WITNESS_COSIGNED,	/* 200 with a valid cosignature */
	WITNESS_STALE,		/* 409 with a size at most the log's: send again from that size */
	WITNESS_CONFLICT,	/* 409 without a size (v1.0.0 witnesses), or 422: another tree, or a bad proof */
	WITNESS_ROLLBACK,	/* 409 with a size past the log's: it cosigned more than the log has */
	WITNESS_REFUSED,	/* 403/404: it does not witness this log or key (configuration) */
	WITNESS_BUSY,		/* 429, 5xx, no answer: back off */
	WITNESS_FAILED,		/* anything else (400, 200 without a valid cosignature) */
};
struct witness_answer {
	enum witness_answer_kind kind;
	uint64_t size;		/* STALE, ROLLBACK: the size the witness cosigned last */
	size_t cosigned;	/* COSIGNED: lines kept */
	char why[200];		/* all but COSIGNED: what happened, printable */
};
/*
 * What a witness's answer (HTTP status, 0: none; body, NUL-terminated)
 * means for note, a checkpoint of size entries; valid cosignature lines of
 * key go to cosigs.
 */
void witness_answer_read(long status, const char *body, size_t blen, const uint8_t *note, size_t nlen, uint64_t size,
			 const struct note_verifier *key, struct witness_answer *out, struct bw_buf *cosigs);
const char *witness_answer_name(enum witness_answer_kind k);

#endif
