/* agent/agent_internal.h: what the agent's files share (not part of the module contract). */
#ifndef BW_AGENT_INTERNAL_H
#define BW_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <jansson.h>

#include "agent.h"
#include "core/core.h"
#include "tlog/tlog.h"

/* ---- following a log file across rotation (follow.c) ---- */

/* How a follow opens and stats its paths (NULL: directly; agent run --user: through the broker). */
struct follow_fs {
	int (*open)(void *ctx, const char *path);			/* a read-only fd, or -1 and errno */
	int (*stat)(void *ctx, const char *path, struct stat *st);	/* 0, or -1 and errno */
	void *ctx;
};

struct follow {
	const struct follow_fs *fs;
	char path[1024];
	int fd;				/* -1: not open */
	uint64_t dev, ino;		/* the file fd reads */
	uint64_t offset;		/* bytes of it read */
	bool draining;			/* reading the rest of PATH.1 after a restart */
	bool switch_pending;		/* the path names another file: one more poll of the old one first */
	uint64_t lost_gaps;		/* data rotated away unread or truncated away: each counts once */
};

void follow_init(struct follow *f, const char *path);
/*
 * Opens the file last read at (dev, ino, offset) (ino 0: never read): at
 * the path, else its first rotation PATH.1, else the path from its start
 * (a lost gap). BW_ENOTFOUND when the path does not exist (yet).
 */
int follow_open(struct follow *f, uint64_t dev, uint64_t ino, uint64_t offset, struct bw_err *err);
/*
 * Reads what the file has next into buf. *n 0: nothing new. *switched: the
 * file before was read to its end and another one (from its start) or the
 * same one truncated is read from now on: the caller ends what it parsed of
 * the old one first.
 */
int follow_read(struct follow *f, void *buf, size_t cap, size_t *n, bool *switched, struct bw_err *err);
void follow_close(struct follow *f);

/* ---- the agent's own actions (actions.c) ---- */

#define AGENT_ACTIONS_FILE "actions.log"	/* in STATE/hostev */
struct hostev_action;
/* Appends a to STATE/hostev/actions.log (created 0600) durably, for `agent run` to ship. */
int agent_action_record(const char *state, const struct hostev_action *a, struct bw_err *err);

/* ---- privilege separation: the root helper that opens the sources (broker.c) ---- */

struct broker {
	int sock;		/* to the helper (-1: none) */
	pid_t pid;
};
/*
 * Forks the helper (it keeps the caller's privileges): it opens, read-only,
 * only the regular files named in paths and their PATH.1, for broker_open
 * and broker_stat (the struct follow_fs functions, ctx the broker).
 */
struct hostev_event;
/* File integrity run by the helper (as root): fim_open's arguments. */
struct broker_fim {
	const char *const *roots;
	size_t nroots;
	const char *state_path;		/* the baseline: in root's part of the state */
	unsigned scan_secs;
};
int broker_start(char *const *paths, size_t n, const struct broker_fim *fim, struct broker *b, struct bw_err *err);
/*
 * The helper's file integrity: save its baseline first when save_first (the
 * events of earlier polls are all in the spool), then poll; each change to
 * fn (which takes the event), *changes counted, error its state for
 * heartbeats ("": fine). A failure of the helper, or an event it sends
 * malformed, is an error.
 */
int broker_fim_poll(struct broker *b, bool save_first, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx,
		    size_t *changes, char *error, size_t cap, struct bw_err *err);
/* Saves the helper's baseline (when stopping: everything reported is in the spool). */
int broker_fim_save(struct broker *b, struct bw_err *err);
int broker_open(void *ctx, const char *path);
int broker_stat(void *ctx, const char *path, struct stat *st);
/* Sends msg (len bytes) with fd attached (SCM_RIGHTS; -1: none), without SIGPIPE; sendmsg's result. */
ssize_t agent_send_with_fd(int sock, const void *msg, size_t len, int fd);
/* Closes the agent's end (the helper then exits) and reaps the helper. */
void broker_stop(struct broker *b);
/* USER's ids (refused: unknown, or root). */
int agent_drop_to(const char *user, uid_t *uid, gid_t *gid, struct bw_err *err);
/* Becomes USER for good: its groups, gid, uid, no_new_privs; checks root cannot be regained. */
int agent_setuid(const char *user, struct bw_err *err);

/* ---- the audit log's keys as this host follows them (log_keys.c) ---- */

#define AGENT_LOG_KEYS "log-key-transitions.json"	/* the transitions followed: a JSON array of tlog-proof texts */

/* Starts c at the pinned key vkey, then replays the transitions this host followed (each verified again). */
int agent_log_keys_load(const char *state, const char *vkey, struct tlog_keychain *c, struct bw_err *err);
/*
 * Called for each new transition once followed, with its handover
 * checkpoint (note verbatim, and parsed): the caller checks it is
 * consistent with what this host saw before.
 */
typedef int (*agent_handover_fn)(void *ctx, const uint8_t *note, size_t len, const struct tlog_checkpoint *cp,
				 struct bw_err *err);
/*
 * Follows the transitions of a /log/key-transitions answer past c's last
 * one, in order; each one followed (and checked by fn) is added to the
 * state file before the next. *followed counts them.
 */
int agent_log_keys_update(const char *state, struct tlog_keychain *c, const uint8_t *answer, size_t len,
			  agent_handover_fn fn, void *ctx, size_t *followed, struct bw_err *err);

/* ---- privilege separation for updates: the network in a child as USER (net.c) ---- */

struct agent_net;
/* Forks the child (it becomes user at once); http[0] the repository, http[1] the report server (CA in memory). */
int agent_net_start(const struct agent_http http[2], const char *user, struct agent_net **out, struct bw_err *err);
void agent_net_stop(struct agent_net *n);
/* As agent_http_get / _get_file / _post_json, through the child when n is not NULL (which: 0 or 1, h's index). */
int agent_net_get(struct agent_net *n, const struct agent_http *h, int which, const char *path, uint64_t max,
		  struct bw_buf *out, struct bw_err *err);
int agent_net_get_file(struct agent_net *n, const struct agent_http *h, int which, const char *path, uint64_t max,
		       int fd, uint8_t sha256[32], uint64_t *len, struct bw_err *err);
int agent_net_post_json(struct agent_net *n, const struct agent_http *h, int which, const char *path,
			const json_t *body, long *status, struct bw_err *err);

/* ---- auditd events read both ways, each shipped once (dedup.c) ---- */

#define DEDUP_GEN 32768		/* keys per generation (a power of two) */
struct dedup;
int dedup_new(struct dedup **out, struct bw_err *err);
void dedup_free(struct dedup *d);
/* Was (time, serial) seen lately? If not, it is remembered now. */
bool dedup_seen(struct dedup *d, int64_t time_ms, uint64_t serial);

/* ---- a followed file read as whole lines (lines.c) ---- */

struct lines {
	struct follow f;
	bool open;
	bool skipping;			/* within a line too long to keep */
	struct bw_buf line;		/* a line read in part */
	uint64_t done;			/* file offset after the last whole line taken: the position to save */
	char state[16], error[256];	/* for heartbeats: ok, waiting, error */
};
/* One whole line (len bytes, a NUL after them); non-zero stops the reading with that code. */
typedef int (*lines_fn)(void *ctx, const char *line, size_t len, struct bw_err *err);

void lines_init(struct lines *ls, const char *path);
/* follow_open at a saved position; gaps found add to *lost. On failure state says waiting. */
int lines_open(struct lines *ls, uint64_t dev, uint64_t ino, uint64_t offset, uint64_t *lost, struct bw_err *err);
/*
 * Reads once (buf of cap bytes) and hands each whole line to fn; *got the
 * bytes read (0: nothing new). Opens the file first when it is not open
 * (waiting while it does not exist). Read errors and overlong lines count
 * in *errors, lost gaps in *lost; fn's failure is returned.
 */
int lines_read(struct lines *ls, char *buf, size_t cap, size_t *got, lines_fn fn, void *ctx, uint64_t *lost,
	       uint64_t *errors, struct bw_err *err);
void lines_close(struct lines *ls);

/* ---- the systemd journal (journal.c) ---- */

struct hostev_event;
struct journal_src;
/*
 * Opens the journal in dir (NULL: this machine's) for the watched programs'
 * entries, after cursor (NULL: from its start). Caller closes.
 */
int journal_src_open(const char *dir, const char *cursor, struct journal_src **out, struct bw_err *err);
/* Hands up to max new entries, normalised, to fn (which takes the event's contents); *n: how many. */
int journal_src_read(struct journal_src *js, size_t max, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx,
		     size_t *n, struct bw_err *err);
/* The cursor of the last entry read (NULL: none). */
const char *journal_src_cursor(const struct journal_src *js);
void journal_src_close(struct journal_src *js);

/* ---- file integrity (fim.c) ---- */

struct fim;
/*
 * Watches roots (absolute paths; directories to two levels below them) with
 * the baseline kept in state_path; a full scan every scan_secs and soon
 * after inotify sees a change. Caller closes.
 */
int fim_open(const char *const *roots, size_t nroots, const char *state_path, unsigned scan_secs, struct fim **out,
	     struct bw_err *err);
/* Scans when one is due: each difference from the baseline goes to fn as a host event (source fim); *changes counts them. */
int fim_poll(struct fim *f, int64_t now, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx, size_t *changes,
	     struct bw_err *err);
/* Writes the baseline (when it changed): call once the events it reported are in the spool. */
int fim_save(struct fim *f, struct bw_err *err);
size_t fim_count(const struct fim *f);
/* The last problem (e.g. too many paths) and how many there were. */
const char *fim_error(const struct fim *f, uint64_t *errors);
void fim_close(struct fim *f);

/* ---- the spool: batches waiting for the server, on disk (spool.c) ---- */

struct spool;
/* Opens (creating, 0700) the spool in dir. Caller closes. */
int spool_open(const char *dir, uint64_t max_bytes, struct spool **out, struct bw_err *err);
void spool_close(struct spool *s);
/* Bytes and batches it holds; the highest seq in it (0: empty). */
uint64_t spool_bytes(const struct spool *s);
size_t spool_count(const struct spool *s);
uint64_t spool_last_seq(const struct spool *s);
bool spool_full(const struct spool *s);
/*
 * Writes batch seq durably (meta: one line of JSON that travels with it,
 * e.g. the source positions after it; body: the batch's JSON text).
 */
int spool_put(struct spool *s, uint64_t seq, const char *meta, const char *body, size_t len, struct bw_err *err);
/* The oldest batch: its seq, meta and body (caller frees both). BW_ENOTFOUND when empty. */
int spool_oldest(struct spool *s, uint64_t *seq, char **meta, char **body, size_t *len, struct bw_err *err);
/* The newest batch's meta (caller frees), BW_ENOTFOUND when empty. */
int spool_newest_meta(struct spool *s, uint64_t *seq, char **meta, struct bw_err *err);
/* Removes batch seq (delivered). */
int spool_remove(struct spool *s, uint64_t seq, struct bw_err *err);
/* Moves batch seq to DIR/rejected/ (the server will never take it; kept for a person to look at). */
int spool_reject(struct spool *s, uint64_t seq, struct bw_err *err);

#endif
