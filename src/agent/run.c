/*
 * agent/run.c: `bulwark agent run`: host events off the host. auditd's log
 * is followed across rotation, its records grouped into events (hostev)
 * and normalised; events go into numbered batches, each written durably to
 * the spool (with the source positions after it) before the sources move
 * on, and removed from the spool only when the server has acknowledged it.
 * The server logs each batch once, however often it is sent. A full spool
 * stops the reading (the source files hold the rest); only what a source
 * rotated away unread is lost, and that is counted and reported in the
 * heartbeats.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_internal.h"
#include "crypto/crypto.h"
#include "hostev/hostev.h"

#define RECENT_MAX 512		/* auditd events (time, serial) remembered to skip them when read again */
#define READ_CHUNK 65536
#define BATCH_RAW_MAX ((size_t)8 << 20)	/* raw bytes in one batch */
#define BACKOFF_MAX_MS 60000
#define GZIP_FROM 1024		/* batches from this size are sent gzip-compressed */
#define QUIET_MS 1000		/* no new bytes this long: events still open are ended (records without EOE) */

struct recent_key {
	int64_t time_ms;
	uint64_t serial;
};

struct run {
	const struct agent_run_opts *o;
	struct agent_identity id;
	char dir[1024];			/* <state>/hostev */
	char epoch[HOSTEV_EPOCH_HEX + 1];
	struct spool *spool;
	uint64_t next_seq;
	/* the auditd log */
	struct follow fl;
	bool fl_open;
	struct hostev_audit_reader *reader;
	uint64_t reader_base;		/* the file offset the reader's first byte came from */
	int64_t last_data;		/* when the log last had new bytes */
	/* auditd's dispatcher (stdin): its own reader; with the log too, each event shipped once */
	struct hostev_audit_reader *sreader;
	int64_t last_sdata;
	char stdin_state[16], stdin_error[256];
	struct dedup *dedup;		/* both ways: the events seen lately (NULL: one way only) */
	uint64_t duplicates;		/* events skipped as already shipped the other way */
	/* the systemd journal */
	struct journal_src *js;
	char journal_state[16], journal_error[256];
	struct lines sl;		/* a syslog file */
	struct lines acts;		/* the agent's own actions (STATE/hostev/actions.log) */
	struct fim *fim;		/* file integrity (NULL: none) */
	char *kept_cursor;		/* the journal's saved cursor, kept while the journal is not read this run */
	/* events read again after a restart (they were open when the position was saved) */
	struct recent_key recent[RECENT_MAX];
	size_t nrecent, recent_next;
	/* the batch being filled */
	struct hostev_batch batch;
	size_t batch_cap, batch_raw;
	int64_t batch_started;
	/* counters: read and sent since the start; lost and source errors since the epoch began */
	uint64_t read, sent, spooled, lost, source_errors;
	uint64_t bytes_sent, bytes_raw;	/* batches acknowledged since the start: on the wire, and uncompressed */
	char source_state[16], source_error[256];
	char deliver_error[256];
	int64_t next_send, backoff, next_heartbeat;
	struct bw_err cb_err;		/* a failure inside the reader's callback (cb_failed) */
	bool cb_failed;
	int lockfd;			/* holds <state>/hostev/lock: one run per state directory */
	/* --user: the root helper that opens the source files, and how the follows reach it */
	struct broker broker;
	struct follow_fs fs;
	char journal_dir[1100];		/* --journal-dir made absolute ("" without) */
	uint8_t *ca_pem;		/* the pinned CA, read while still root */
	bool fim_remote;		/* file integrity runs in the helper */
	char fim_error[256];		/* its state, for heartbeats */
};

static int flush_batch(struct run *r, struct bw_err *err);

static void
say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->o->log == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(r->o->log, fmt, ap);
	va_end(ap);
	fputc('\n', r->o->log);
	fflush(r->o->log);
}

/*
 * One `agent run` per state directory: two would number batches from the
 * same sequence and share a spool. The lock goes with the process.
 */
static int
lock_state(struct run *r, struct bw_err *err)
{
	char path[1100];

	snprintf(path, sizeof path, "%s/lock", r->dir);
	if ((r->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if (flock(r->lockfd, LOCK_EX | LOCK_NB) != 0)
		return bw_err_set(err, BW_ECONFLICT, "another `bulwark agent run` is using %s (one per state directory)",
				  r->dir);
	return 0;
}

/* ---- privilege separation (--user) ---- */

/* path made absolute against the working directory (cap bytes). */
static int
absolute(char *path, size_t cap, struct bw_err *err)
{
	char cwd[1024];
	size_t c, p = strlen(path);

	if (path[0] == '\0' || path[0] == '/')
		return 0;
	if (getcwd(cwd, sizeof cwd) == NULL || (c = strlen(cwd)) + 1 + p + 1 > cap)
		return bw_err_set(err, BW_EINVAL, "%.200s: path too long once made absolute", path);
	memmove(path + c + 1, path, p + 1);
	memcpy(path, cwd, c);
	path[c] = '/';
	return 0;
}

/* Hands dir and everything below it (not following links) to uid:gid; depth bounds the recursion. */
static int
chown_tree(int at, const char *name, uid_t uid, gid_t gid, int depth)
{
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (fchownat(at, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
		return -1;
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOTDIR || errno == ELOOP ? 0 : -1;
	if (depth > 8 || (d = fdopendir(fd)) == NULL) {
		close(fd);
		return depth > 8 ? 0 : -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = chown_tree(dirfd(d), de->d_name, uid, gid, depth + 1);
	closedir(d);
	return rc;
}

/*
 * --user: the source paths made absolute; STATE/hostev created and handed to
 * USER (STATE itself stays root's, 0700: the patch trust anchors are there);
 * the pinned CA read into memory; the root helper forked for the source
 * files; the working directory moved into STATE/hostev (r->dir becomes ".");
 * then USER for good.
 */
static int
privsep(struct run *r, struct bw_err *err)
{
	char *paths[3], fim_state[1100];
	struct broker_fim bf;
	size_t n = 0, len;
	uid_t uid;
	gid_t gid;
	int rc;

	if (geteuid() != 0)
		return bw_err_set(err, BW_EDENIED, "--user needs the agent started as root (it keeps a root helper that "
						    "only opens the source files, and runs as the user)");
	if ((rc = agent_drop_to(r->o->user, &uid, &gid, err)) != 0 ||
	    (rc = absolute(r->fl.path, sizeof r->fl.path, err)) != 0 ||
	    (rc = absolute(r->sl.f.path, sizeof r->sl.f.path, err)) != 0 ||
	    (rc = absolute(r->acts.f.path, sizeof r->acts.f.path, err)) != 0 ||
	    (rc = absolute(r->journal_dir, sizeof r->journal_dir, err)) != 0 || (rc = bw_mkdir_p(r->dir, 0700, err)) != 0)
		return rc;
	if (chown_tree(AT_FDCWD, r->dir, uid, gid, 0) != 0)
		return bw_err_set(err, BW_EIO, "%s: cannot hand it to %s: %s", r->dir, r->o->user, strerror(errno));
	if (r->id.http.cacert != NULL) {
		if ((rc = bw_file_read(r->id.http.cacert, (size_t)1 << 20, &r->ca_pem, &len, err)) != 0)
			return rc;
		r->id.http.ca_pem = (const char *)r->ca_pem;
		r->id.http.ca_pem_len = len;
	}
	if (r->o->audit_log != NULL)
		paths[n++] = r->fl.path;
	if (r->o->syslog != NULL)
		paths[n++] = r->sl.f.path;
	paths[n++] = r->acts.f.path;
	if (r->o->nfim > 0) {
		/* file integrity reads what only root may (shadow, sudoers): it runs in the helper, its baseline
		 * in root's part of the state, where the agent cannot alter what the helper parses */
		snprintf(fim_state, sizeof fim_state, "%s/fim-baseline.json", r->o->state);
		if ((rc = absolute(fim_state, sizeof fim_state, err)) != 0)
			return rc;
		bf = (struct broker_fim){ r->o->fim, r->o->nfim, fim_state, r->o->fim_scan_secs };
	}
	if ((rc = broker_start(paths, n, r->o->nfim > 0 ? &bf : NULL, &r->broker, err)) != 0)
		return rc;
	r->fim_remote = r->o->nfim > 0;
	r->fs = (struct follow_fs){ broker_open, broker_stat, &r->broker };
	r->fl.fs = r->sl.f.fs = r->acts.f.fs = &r->fs;
	if (chdir(r->dir) != 0)
		return bw_err_set(err, BW_EIO, "%s: %s", r->dir, strerror(errno));
	snprintf(r->dir, sizeof r->dir, ".");
	return agent_setuid(r->o->user, err);
}

/* ---- the epoch: one per state directory ---- */

static int
load_epoch(struct run *r, struct bw_err *err)
{
	char path[1100];
	uint8_t *data = NULL, raw[HOSTEV_EPOCH_HEX / 2];
	size_t n = 0;
	int rc;

	snprintf(path, sizeof path, "%s/epoch", r->dir);
	if (access(path, F_OK) != 0) {
		bw_random_bytes(raw, sizeof raw);
		bw_hex_encode(r->epoch, raw, sizeof raw);
		return bw_file_create_new(path, r->epoch, HOSTEV_EPOCH_HEX, 0600, err);
	}
	if ((rc = bw_file_read(path, 64, &data, &n, err)) != 0)
		return rc;
	if (n != HOSTEV_EPOCH_HEX) {
		free(data);
		return bw_err_set(err, BW_ECORRUPT, "%s: not an epoch", path);
	}
	memcpy(r->epoch, data, n);
	r->epoch[n] = '\0';
	free(data);
	return 0;
}

/* ---- where the sources stand: in each spooled batch's meta, and in positions.json ---- */

struct saved {
	uint64_t dev, ino, offset;	/* auditd's log */
	uint64_t sdev, sino, soffset;	/* the syslog file */
	uint64_t adev, aino, aoffset;	/* the actions file */
	char *cursor;			/* the journal's (owned) */
};

static json_t *
file_json(const struct follow *f, uint64_t offset)
{
	return json_pack("{s:s, s:I, s:I, s:I}", "path", f->path, "dev", (json_int_t)f->dev, "ino", (json_int_t)f->ino,
			 "offset", (json_int_t)offset);
}

/* A saved file position, when it is for path. */
static void
file_saved(json_t *o, const char *path, uint64_t *dev, uint64_t *ino, uint64_t *offset)
{
	const char *p = json_string_value(json_object_get(o, "path"));

	if (o == NULL || path == NULL || p == NULL || strcmp(p, path) != 0)
		return;
	*dev = (uint64_t)json_integer_value(json_object_get(o, "dev"));
	*ino = (uint64_t)json_integer_value(json_object_get(o, "ino"));
	*offset = (uint64_t)json_integer_value(json_object_get(o, "offset"));
}

static char *
positions_json(struct run *r, uint64_t seq)
{
	json_t *recent = json_array(), *o;
	size_t i;
	char *text;

	for (i = 0; i < r->nrecent; i++)
		json_array_append_new(recent, json_pack("[I, I]", (json_int_t)r->recent[i].time_ms,
							(json_int_t)r->recent[i].serial));
	o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:o}", "seq", (json_int_t)seq, "epoch", r->epoch, "events",
		      (json_int_t)r->batch.n, "lost", (json_int_t)r->lost, "source_errors", (json_int_t)r->source_errors,
		      "recent", recent);
	if (o != NULL && r->o->audit_log != NULL)
		json_object_set_new(o, "auditd", file_json(&r->fl, r->reader_base + (r->reader ?
										  hostev_audit_reader_resume_offset(r->reader) : 0)));
	if (o != NULL && r->o->syslog != NULL)
		json_object_set_new(o, "syslog", file_json(&r->sl.f, r->sl.done));
	if (o != NULL)
		json_object_set_new(o, "actions", file_json(&r->acts.f, r->acts.done));
	if (o != NULL && r->js != NULL && journal_src_cursor(r->js) != NULL)
		json_object_set_new(o, "journal", json_pack("{s:s}", "cursor", journal_src_cursor(r->js)));
	else if (o != NULL && r->kept_cursor != NULL)
		json_object_set_new(o, "journal", json_pack("{s:s}", "cursor", r->kept_cursor));
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

static int
save_positions(struct run *r, const char *text, struct bw_err *err)
{
	char path[1100];

	snprintf(path, sizeof path, "%s/positions.json", r->dir);
	return bw_file_write_atomic(path, text, strlen(text), 0600, err);
}

/* Restores the positions of the later of positions.json and the newest spooled batch. */
static int
load_positions(struct run *r, struct saved *sv, struct bw_err *err)
{
	char path[1100], *meta = NULL;
	uint8_t *data = NULL;
	size_t n;
	uint64_t seq_spool = 0;
	json_t *a = NULL, *b = NULL, *use, *rec;
	json_error_t je;
	int rc = 0;
	size_t i;

	memset(sv, 0, sizeof *sv);
	snprintf(path, sizeof path, "%s/positions.json", r->dir);
	if (access(path, F_OK) == 0) {
		if ((rc = bw_file_read(path, (size_t)1 << 20, &data, &n, err)) != 0)
			return rc;
		a = json_loadb((char *)data, n, 0, &je);
		free(data);
		if (a == NULL)
			return bw_err_set(err, BW_ECORRUPT, "%s: %s", path, je.text);
	}
	if (spool_newest_meta(r->spool, &seq_spool, &meta, err) == 0) {
		b = json_loads(meta, 0, &je);
		free(meta);
		if (b == NULL) {
			json_decref(a);
			return bw_err_set(err, BW_ECORRUPT, "the newest spooled batch: %s", je.text);
		}
	}
	use = a;
	if (b != NULL && (a == NULL || json_integer_value(json_object_get(b, "seq")) >=
					   json_integer_value(json_object_get(a, "seq"))))
		use = b;
	if (use != NULL) {
		const char *ep = json_string_value(json_object_get(use, "epoch"));
		if (ep == NULL || strcmp(ep, r->epoch) != 0) {
			rc = bw_err_set(err, BW_ECORRUPT, "%s: positions of another epoch", r->dir);
			goto out;
		}
		r->next_seq = (uint64_t)json_integer_value(json_object_get(use, "seq")) + 1;
		r->lost = (uint64_t)json_integer_value(json_object_get(use, "lost"));
		r->source_errors = (uint64_t)json_integer_value(json_object_get(use, "source_errors"));
		file_saved(json_object_get(use, "auditd"), r->o->audit_log, &sv->dev, &sv->ino, &sv->offset);
		file_saved(json_object_get(use, "syslog"), r->o->syslog, &sv->sdev, &sv->sino, &sv->soffset);
		file_saved(json_object_get(use, "actions"), r->acts.f.path, &sv->adev, &sv->aino, &sv->aoffset);
		if (json_string_value(json_object_get(json_object_get(use, "journal"), "cursor")) != NULL &&
		    (sv->cursor = strdup(json_string_value(json_object_get(json_object_get(use, "journal"), "cursor")))) ==
			    NULL) {
			rc = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto out;
		}
		rec = json_object_get(use, "recent");
		for (i = 0; i < json_array_size(rec) && i < RECENT_MAX; i++) {
			r->recent[i].time_ms = json_integer_value(json_array_get(json_array_get(rec, i), 0));
			r->recent[i].serial = (uint64_t)json_integer_value(json_array_get(json_array_get(rec, i), 1));
		}
		r->nrecent = i;
		r->recent_next = i % RECENT_MAX;
	}
	if (r->next_seq == 0)
		r->next_seq = 1;
out:
	json_decref(a);
	json_decref(b);
	return rc;
}

/* ---- the batch being filled ---- */

static bool
seen_recently(struct run *r, int64_t t, uint64_t serial)
{
	size_t i;

	for (i = 0; i < r->nrecent; i++)
		if (r->recent[i].time_ms == t && r->recent[i].serial == serial)
			return true;
	return false;
}

static void
remember(struct run *r, int64_t t, uint64_t serial)
{
	r->recent[r->recent_next] = (struct recent_key){ t, serial };
	r->recent_next = (r->recent_next + 1) % RECENT_MAX;
	if (r->nrecent < RECENT_MAX)
		r->nrecent++;
}

/*
 * Takes e (its contents move into the batch) and writes the batch to the
 * spool once it holds --batch-max events or BATCH_RAW_MAX bytes: the
 * positions written with it include e, which is in it.
 */
static int
add_event(struct run *r, struct hostev_event *e, struct bw_err *err)
{
	if (r->batch.n == r->batch_cap) {
		size_t cap = r->batch_cap ? r->batch_cap * 2 : 64;
		struct hostev_event *n = realloc(r->batch.events, cap * sizeof *n);
		if (n == NULL) {
			hostev_event_clear(e);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		r->batch.events = n;
		r->batch_cap = cap;
	}
	if (r->batch.n == 0)
		r->batch_started = bw_now_ms();
	r->batch_raw += e->raw_len;
	r->batch.events[r->batch.n++] = *e;
	memset(e, 0, sizeof *e);
	r->read++;
	if (r->batch.n >= r->o->batch_max || r->batch_raw >= BATCH_RAW_MAX)
		return flush_batch(r, err);
	return 0;
}

static void
on_audit_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct run *r = ctx;
	struct hostev_event e;

	if (r->cb_failed || seen_recently(r, ev->time_ms, ev->serial))
		return;	/* read again after a restart: already in a batch */
	if (r->dedup != NULL && dedup_seen(r->dedup, ev->time_ms, ev->serial)) {
		r->duplicates++;	/* the other way brought it first */
		return;
	}
	remember(r, ev->time_ms, ev->serial);
	if (hostev_audit_normalise(ev, &e, &r->cb_err) != 0 || add_event(r, &e, &r->cb_err) != 0)
		r->cb_failed = true;
}

static void
on_bad_line(void *ctx, uint64_t line, const char *reason)
{
	struct run *r = ctx;

	r->source_errors++;
	snprintf(r->source_error, sizeof r->source_error, "line %llu: %.200s", (unsigned long long)line, reason);
}

/* Writes the batch (if any) to the spool with the positions after it. */
static int
flush_batch(struct run *r, struct bw_err *err)
{
	char *body = NULL, *meta = NULL;
	size_t len = 0, i;
	int rc;

	if (r->batch.n == 0)
		return 0;
	snprintf(r->batch.epoch, sizeof r->batch.epoch, "%s", r->epoch);
	r->batch.seq = r->next_seq;
	if ((rc = hostev_batch_format(&r->batch, &body, &len, err)) != 0)
		return rc;
	if ((meta = positions_json(r, r->batch.seq)) == NULL) {
		free(body);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	rc = spool_put(r->spool, r->batch.seq, meta, body, len, err);
	if (rc == 0) {
		struct bw_err perr = { 0 };
		if (save_positions(r, meta, &perr) != 0)	/* the spooled batch holds them too */
			say(r, "positions not saved: %s", perr.msg);
		r->next_seq++;
		r->spooled += r->batch.n;
		for (i = 0; i < r->batch.n; i++)
			hostev_event_clear(&r->batch.events[i]);
		r->batch.n = 0;
		r->batch_raw = 0;
	}
	free(body);
	free(meta);
	return rc;
}

/* ---- reading auditd's log ---- */

static int
reader_restart(struct run *r, uint64_t base, struct bw_err *err)
{
	hostev_audit_reader_free(r->reader);
	r->reader = NULL;
	r->reader_base = base;
	return hostev_audit_reader_new(on_audit_event, on_bad_line, r, &r->reader, err);
}

static int
open_audit_log(struct run *r, uint64_t dev, uint64_t ino, uint64_t offset, struct bw_err *err)
{
	uint64_t gaps = r->fl.lost_gaps;
	int rc = follow_open(&r->fl, dev, ino, offset, err);

	if (rc != 0)
		return rc;
	r->fl_open = true;
	if (r->fl.lost_gaps > gaps) {
		r->lost += r->fl.lost_gaps - gaps;
		say(r, "auditd: %s was rotated away or truncated unread since the last run (counted as lost)", r->fl.path);
	}
	return reader_restart(r, r->fl.offset, err);
}

/* n bytes of auditd's records to reader rd (0: nothing new: after QUIET_MS of that, open events end). */
static int
feed_audit(struct run *r, struct hostev_audit_reader *rd, int64_t *last, const char *buf, size_t n,
	   struct bw_err *err)
{
	int rc;

	if (n > 0) {
		*last = bw_now_ms();
		if ((rc = hostev_audit_reader_feed(rd, buf, n, err)) != 0)
			return rc;
	} else if (bw_now_ms() - *last >= QUIET_MS) {
		hostev_audit_reader_idle(rd);
	}
	if (r->cb_failed) {
		*err = r->cb_err;
		return err->code ? err->code : BW_EIO;
	}
	return 0;
}

/* Reads what auditd wrote since the last call (bounded by the batch). *got: bytes read. */
static int
read_audit(struct run *r, char *buf, size_t *got, struct bw_err *err)
{
	size_t n = 0;
	bool switched = false;
	uint64_t gaps = r->fl.lost_gaps;
	int rc;

	*got = 0;
	if (!r->fl_open) {
		struct bw_err oerr = { 0 };
		if (open_audit_log(r, 0, 0, 0, &oerr) != 0) {
			snprintf(r->source_state, sizeof r->source_state, "waiting");
			snprintf(r->source_error, sizeof r->source_error, "%.250s", oerr.msg);
			return 0;
		}
	}
	snprintf(r->source_state, sizeof r->source_state, "ok");
	if ((rc = follow_read(&r->fl, buf, READ_CHUNK, &n, &switched, err)) != 0) {
		r->source_errors++;
		snprintf(r->source_state, sizeof r->source_state, "error");
		snprintf(r->source_error, sizeof r->source_error, "%.250s", err->msg);
		return 0;
	}
	if (switched) {
		/* The old file is read to its end: its open events are complete. */
		if ((rc = hostev_audit_reader_finish(r->reader, err)) != 0 || (rc = flush_batch(r, err)) != 0 ||
		    (rc = reader_restart(r, r->fl.offset, err)) != 0)
			return rc;
		if (r->fl.lost_gaps > gaps)
			r->lost += r->fl.lost_gaps - gaps;
		return 0;
	}
	*got = n;
	return feed_audit(r, r->reader, &r->last_data, buf, n, err);
}

/* ---- auditd's dispatcher: records on stdin ---- */

/* Reads what auditd handed over since the last call; *eof once auditd closed the pipe (the reader is finished then). */
static int
read_audit_stdin(struct run *r, char *buf, size_t *got, bool *eof, struct bw_err *err)
{
	ssize_t n;
	int rc;

	*got = 0;
	*eof = false;
	if (r->sreader == NULL && (rc = hostev_audit_reader_new(on_audit_event, on_bad_line, r, &r->sreader, err)) != 0)
		return rc;
	snprintf(r->stdin_state, sizeof r->stdin_state, "ok");
	n = read(0, buf, READ_CHUNK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		n = -2;
	if (n == -1) {
		r->source_errors++;
		snprintf(r->stdin_state, sizeof r->stdin_state, "error");
		snprintf(r->stdin_error, sizeof r->stdin_error, "stdin: %.200s", strerror(errno));
		*eof = true;
		return 0;
	}
	if (n == 0) {
		*eof = true;	/* auditd stopped the plugin: every open event is whole now */
		snprintf(r->stdin_state, sizeof r->stdin_state, "waiting");
		snprintf(r->stdin_error, sizeof r->stdin_error, "auditd closed the dispatcher's pipe");
		if ((rc = hostev_audit_reader_finish(r->sreader, err)) != 0)
			return rc;
		if (r->cb_failed) {
			*err = r->cb_err;
			return err->code ? err->code : BW_EIO;
		}
		return 0;
	}
	if (n > 0)
		*got = (size_t)n;
	return feed_audit(r, r->sreader, &r->last_sdata, buf, n > 0 ? (size_t)n : 0, err);
}

/* ---- a syslog file ---- */

/* One whole line of the syslog file (a lines_fn). */
static int
syslog_line(void *ctx, const char *line, size_t len, struct bw_err *err)
{
	struct run *r = ctx;
	char ident[64];
	uint64_t pid;
	int64_t t;
	const char *msg;
	struct hostev_event e;

	if (memchr(line, '\0', len) != NULL || hostev_syslog_line(line, bw_now_ms(), &t, ident, &pid, &msg) != 0) {
		r->source_errors++;
		snprintf(r->sl.error, sizeof r->sl.error, "a line that is not a syslog line at offset %llu",
			 (unsigned long long)(r->sl.done - len - 1));
		return 0;
	}
	if (!hostev_syslog_watched(ident))
		return 0;
	if (hostev_syslog_normalise(ident, pid, msg, t, "syslog", &e, err) != 0)
		return err->code;
	return add_event(r, &e, err);
}

/* ---- the agent's own actions (session guard, patch updates) ---- */

/* One line of the actions file (a lines_fn). */
static int
action_line(void *ctx, const char *line, size_t len, struct bw_err *err)
{
	struct run *r = ctx;
	struct hostev_event e;
	struct bw_err perr = { 0 };

	if (hostev_action_parse(line, len, &e, &perr) != 0) {
		r->source_errors++;
		snprintf(r->acts.error, sizeof r->acts.error, "offset %llu: %.200s",
			 (unsigned long long)(r->acts.done - len - 1), perr.msg);
		return 0;
	}
	return add_event(r, &e, err);
}

/* ---- the journal ---- */

/* A source's event into the batch (journal, file integrity: their callback). */
static int
take_event(void *ctx, struct hostev_event *ev)
{
	struct run *r = ctx;

	return add_event(r, ev, &r->cb_err);
}

static int
read_journal(struct run *r, size_t *got, struct bw_err *err)
{
	struct bw_err jerr = { 0 };
	size_t room = r->o->batch_max > r->batch.n ? r->o->batch_max - r->batch.n : 1;

	*got = 0;
	if (journal_src_read(r->js, room, take_event, r, got, &jerr) != 0) {
		if (r->cb_err.code != 0) {	/* the spool failed, not the journal */
			*err = r->cb_err;
			return err->code;
		}
		r->source_errors++;
		snprintf(r->journal_state, sizeof r->journal_state, "error");
		snprintf(r->journal_error, sizeof r->journal_error, "%.250s", jerr.msg);
		return 0;
	}
	snprintf(r->journal_state, sizeof r->journal_state, "ok");
	return 0;
}

/* ---- file integrity ---- */

static int
read_fim(struct run *r, size_t *got, struct bw_err *err)
{
	struct bw_err ferr = { 0 };

	*got = 0;
	if (r->fim_remote) {
		/* the helper saves the baseline first when what it reported before is all in the spool */
		if (broker_fim_poll(&r->broker, r->batch.n == 0, take_event, r, got, r->fim_error, sizeof r->fim_error,
				    &ferr) == 0)
			return 0;
		if (r->cb_err.code != 0) {	/* the spool failed */
			*err = r->cb_err;
			return err->code;
		}
		snprintf(r->fim_error, sizeof r->fim_error, "%.250s", ferr.msg);
		return 0;	/* shown in heartbeats; the helper is asked again */
	}
	if (fim_poll(r->fim, bw_now_ms(), take_event, r, got, &ferr) != 0) {
		if (r->cb_err.code != 0) {	/* the spool failed */
			*err = r->cb_err;
			return err->code;
		}
		*err = ferr;
		return err->code;
	}
	/* Once what it reported is in the spool, the new baseline is kept (else a crash reports it again). */
	if (r->batch.n == 0 && fim_save(r->fim, &ferr) != 0)
		say(r, "fim: the baseline was not saved: %s", ferr.msg);
	return 0;
}

/* ---- delivery ---- */

static void
delivery_failed(struct run *r, int64_t now, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
delivery_failed(struct run *r, int64_t now, const char *fmt, ...)
{
	va_list ap;
	char msg[sizeof r->deliver_error];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (strcmp(msg, r->deliver_error) != 0)
		say(r, "delivery: %s (retrying with back-off; events stay in the spool)", msg);
	snprintf(r->deliver_error, sizeof r->deliver_error, "%s", msg);
	r->backoff = r->backoff ? r->backoff * 2 : 500;
	if (r->backoff > BACKOFF_MAX_MS)
		r->backoff = BACKOFF_MAX_MS;
	r->next_send = now + r->backoff;
}

/* Sends the oldest spooled batch; true when it was acknowledged (and removed). */
static bool
send_one(struct run *r, int64_t now)
{
	uint64_t seq = 0;
	char *meta = NULL, *body = NULL;
	size_t len = 0;
	struct bw_buf reply = { 0 };
	struct bw_err err = { 0 };
	long status = 0;
	json_t *j = NULL;
	struct bw_buf gz = { 0 };
	size_t raw_len;
	bool ok = false, zipped = false;

	if (spool_oldest(r->spool, &seq, &meta, &body, &len, &err) != 0) {
		delivery_failed(r, now, "%s", err.msg);
		return false;
	}
	raw_len = len;
	if (len >= GZIP_FROM && bw_gzip(body, len, &gz, &err) == 0 && gz.len < len) {
		free(body);	/* compressed where it helps: batches are text, mostly 5-10 times smaller */
		len = gz.len;
		body = bw_buf_take(&gz, NULL);
		zipped = true;
	}
	bw_buf_free(&gz);
	err.msg[0] = '\0';
	if (agent_http_post(&r->id.http, "/api/v1/agent/events", body, len, zipped, &status, &reply, &err) != 0) {
		delivery_failed(r, now, "%s", err.msg);
		goto out;
	}
	j = json_loadb((const char *)reply.data, reply.len, 0, NULL);
	if (status == 400) {
		/* The server will never take it: set aside (not deleted), counted as lost, said loudly. */
		const char *msg = json_string_value(json_object_get(j, "error"));
		uint64_t n = 0;
		json_t *m = json_loads(meta, 0, NULL);
		n = (uint64_t)json_integer_value(json_object_get(m, "events"));
		json_decref(m);
		if (spool_reject(r->spool, seq, &err) != 0) {
			delivery_failed(r, now, "%s", err.msg);
			goto out;
		}
		r->lost += n ? n : 1;
		say(r, "delivery: batch %llu refused by the server (%.200s): set aside in the spool's rejected/ directory, "
		    "%llu event(s) counted as lost", (unsigned long long)seq, msg ? msg : "no reason given",
		    (unsigned long long)(n ? n : 1));
		ok = true;
		goto out;
	}
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(j, "error"));
		delivery_failed(r, now, "batch %llu: HTTP %ld: %.160s", (unsigned long long)seq, status,
				msg ? msg : "no reason given");
		goto out;
	}
	if ((uint64_t)json_integer_value(json_object_get(j, "seq")) != seq) {
		delivery_failed(r, now, "batch %llu: the server acknowledged another batch", (unsigned long long)seq);
		goto out;
	}
	if (spool_remove(r->spool, seq, &err) != 0) {
		delivery_failed(r, now, "%s", err.msg);
		goto out;
	}
	r->sent += (uint64_t)json_integer_value(json_object_get(j, "events"));
	r->bytes_sent += len;
	r->bytes_raw += raw_len;
	r->deliver_error[0] = '\0';
	r->backoff = 0;
	ok = true;
out:
	json_decref(j);
	bw_buf_free(&reply);
	free(meta);
	free(body);
	return ok;
}

static void
send_heartbeat(struct run *r)
{
	struct hostev_heartbeat hb = { 0 };
	struct bw_buf reply = { 0 };
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	long status = 0;

	snprintf(hb.epoch, sizeof hb.epoch, "%s", r->epoch);
	hb.time_ms = bw_now_ms();
	hb.read = r->read;
	hb.sent = r->sent;
	hb.spooled = r->spooled;
	hb.lost = r->lost;
	hb.source_errors = r->source_errors;
	hb.bytes_sent = r->bytes_sent;
	hb.bytes_raw = r->bytes_raw;
	hb.spool_bytes = spool_bytes(r->spool);
	hb.spool_max = r->o->spool_max;
	if (r->o->audit_log != NULL) {
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		snprintf(s->name, sizeof s->name, "auditd");
		snprintf(s->state, sizeof s->state, "%s", r->source_state[0] ? r->source_state : "waiting");
		snprintf(s->error, sizeof s->error, "%s", r->source_error);
	}
	if (r->o->audit_stdin) {
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		snprintf(s->name, sizeof s->name, "auditd-dispatcher");
		snprintf(s->state, sizeof s->state, "%s", r->stdin_state[0] ? r->stdin_state : "waiting");
		snprintf(s->error, sizeof s->error, "%s", r->stdin_error[0] ? r->stdin_error : r->source_error);
	}
	if (r->o->syslog != NULL) {
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		snprintf(s->name, sizeof s->name, "syslog");
		snprintf(s->state, sizeof s->state, "%s", r->sl.state[0] ? r->sl.state : "waiting");
		snprintf(s->error, sizeof s->error, "%s", r->sl.error);
	}
	{
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		snprintf(s->name, sizeof s->name, "agent");
		snprintf(s->state, sizeof s->state, "%s", r->acts.state[0] ? r->acts.state : "waiting");
		snprintf(s->error, sizeof s->error, "%s", r->acts.error);
	}
	if (r->fim != NULL || r->fim_remote) {
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		uint64_t n;
		const char *e = r->fim_remote ? r->fim_error : fim_error(r->fim, &n);
		snprintf(s->name, sizeof s->name, "fim");
		snprintf(s->state, sizeof s->state, "%s", e[0] ? "error" : "ok");
		snprintf(s->error, sizeof s->error, "%s", e);
	}
	if (r->js != NULL) {
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		snprintf(s->name, sizeof s->name, "journal");
		snprintf(s->state, sizeof s->state, "%s", r->journal_state[0] ? r->journal_state : "ok");
		snprintf(s->error, sizeof s->error, "%s", r->journal_error);
	}
	{
		struct hostev_source_state *s = &hb.sources[hb.nsources++];
		snprintf(s->name, sizeof s->name, "delivery");
		snprintf(s->state, sizeof s->state, "%s", r->deliver_error[0] ? "error" : "ok");
		snprintf(s->error, sizeof s->error, "%s", r->deliver_error);
	}
	if (hostev_heartbeat_format(&hb, &text, &len, &err) == 0 &&
	    agent_http_post_text(&r->id.http, "/api/v1/agent/heartbeat", text, len, &status, &reply, &err) == 0 &&
	    status != 200)
		bw_err_set(&err, BW_EIO, "HTTP %ld", status);
	if (err.msg[0])
		say(r, "heartbeat: %s", err.msg);
	free(text);
	bw_buf_free(&reply);
}

/* ---- the loop ---- */

static bool
stop_asked(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (fd < 0) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return false;
	}
	return poll(&p, 1, timeout_ms) > 0;
}

static void
run_clear(struct run *r)
{
	size_t i;

	for (i = 0; i < r->batch.n; i++)
		hostev_event_clear(&r->batch.events[i]);
	free(r->batch.events);
	hostev_audit_reader_free(r->reader);
	hostev_audit_reader_free(r->sreader);
	dedup_free(r->dedup);
	follow_close(&r->fl);
	lines_close(&r->sl);
	lines_close(&r->acts);
	journal_src_close(r->js);
	fim_close(r->fim);
	free(r->kept_cursor);
	spool_close(r->spool);
	agent_identity_clear(&r->id);
	if (r->lockfd >= 0)
		close(r->lockfd);	/* releases the lock */
	broker_stop(&r->broker);
	free(r->ca_pem);
}

int
agent_run(const struct agent_run_opts *o, struct bw_err *err)
{
	struct run r = { .o = o, .lockfd = -1, .broker = { -1, -1 } };
	char *buf = NULL;
	struct saved sv = { 0 };
	bool stdin_done = false, stdin_said = false;
	int rc;

	if ((rc = agent_identity_load(o->state, &r.id, err)) != 0)
		return rc;
	if (r.id.token == NULL) {
		agent_identity_clear(&r.id);
		return bw_err_set(err, BW_EINVAL, "this host has no credential yet (bulwark agent enrol)");
	}
	snprintf(r.dir, sizeof r.dir, "%s/hostev", o->state);
	follow_init(&r.fl, o->audit_log != NULL ? o->audit_log : "");
	lines_init(&r.sl, o->syslog);
	{
		char ap[1100];
		snprintf(ap, sizeof ap, "%s/%s", r.dir, AGENT_ACTIONS_FILE);
		lines_init(&r.acts, ap);
	}
	snprintf(r.journal_dir, sizeof r.journal_dir, "%s", o->journal_dir != NULL ? o->journal_dir : "");
	if (o->user != NULL && (rc = privsep(&r, err)) != 0)
		goto out;
	{
		char sdir[1100];
		snprintf(sdir, sizeof sdir, "%s/spool", r.dir);
		if ((rc = bw_mkdir_p(r.dir, 0700, err)) != 0 || (rc = lock_state(&r, err)) != 0 ||
		    (rc = load_epoch(&r, err)) != 0 ||
		    (rc = spool_open(sdir, o->spool_max, &r.spool, err)) != 0 ||
		    (rc = load_positions(&r, &sv, err)) != 0)
			goto out;
	}
	if ((o->journal || o->journal_dir != NULL) &&
	    (rc = journal_src_open(r.journal_dir[0] ? r.journal_dir : NULL, sv.cursor, &r.js, err)) != 0)
		goto out;
	if (r.js == NULL) {
		r.kept_cursor = sv.cursor;	/* a run without the journal keeps its place for the next one */
		sv.cursor = NULL;
	}
	if (o->nfim > 0 && !r.fim_remote) {
		char path[1100];
		snprintf(path, sizeof path, "%s/fim.json", r.dir);
		if ((rc = fim_open(o->fim, o->nfim, path, o->fim_scan_secs, &r.fim, err)) != 0)
			goto out;
	}
	if (o->syslog != NULL) {
		struct bw_err oerr = { 0 };
		uint64_t lost = r.lost;
		if (lines_open(&r.sl, sv.sdev, sv.sino, sv.soffset, &r.lost, &oerr) != 0)
			say(&r, "syslog: %s (waiting for it)", oerr.msg);
		else if (r.lost > lost)
			say(&r, "syslog: %s was rotated away or truncated unread since the last run (counted as lost)",
			    r.sl.f.path);
	}
	{
		struct bw_err oerr = { 0 };
		(void)lines_open(&r.acts, sv.adev, sv.aino, sv.aoffset, &r.lost, &oerr);	/* none yet: waits */
	}
	if (spool_last_seq(r.spool) >= r.next_seq)
		r.next_seq = spool_last_seq(r.spool) + 1;
	if ((buf = malloc(READ_CHUNK)) == NULL) {
		rc = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if (o->audit_stdin && o->audit_log != NULL && (rc = dedup_new(&r.dedup, err)) != 0)
		goto out;
	if (o->audit_stdin) {
		int fl = fcntl(0, F_GETFL);
		if (fl < 0 || fcntl(0, F_SETFL, fl | O_NONBLOCK) != 0) {
			rc = bw_err_set(err, BW_EIO, "stdin: %s", strerror(errno));
			goto out;
		}
	}
	if (o->audit_log != NULL) {
		struct bw_err oerr = { 0 };
		if (open_audit_log(&r, sv.dev, sv.ino, sv.offset, &oerr) != 0)
			say(&r, "auditd: %s (waiting for it)", oerr.msg);
	}
	say(&r, "agent run: epoch %s, batch %llu next, %zu batch(es) spooled", r.epoch,
	    (unsigned long long)r.next_seq, spool_count(r.spool));
	for (;;) {
		int64_t now = bw_now_ms();
		size_t got = 0, total = 0;
		/* Read while there is room: a full spool leaves the rest in the source files. */
		while (o->audit_log != NULL && !spool_full(r.spool) && r.batch.n < o->batch_max &&
		       r.batch_raw < BATCH_RAW_MAX) {
			if ((rc = read_audit(&r, buf, &got, err)) != 0)
				goto out;
			total += got;
			if (got == 0 || total >= (size_t)16 << 20)
				break;
		}
		while (o->audit_stdin && !stdin_done && !spool_full(r.spool) && r.batch.n < o->batch_max &&
		       r.batch_raw < BATCH_RAW_MAX) {
			size_t agot = 0;
			if ((rc = read_audit_stdin(&r, buf, &agot, &stdin_done, err)) != 0)
				goto out;
			got += agot;
			if (agot == 0 || (total += agot) >= (size_t)16 << 20)
				break;
		}
		while (o->syslog != NULL && !spool_full(r.spool)) {
			size_t sgot = 0;
			if ((rc = lines_read(&r.sl, buf, READ_CHUNK, &sgot, syslog_line, &r, &r.lost, &r.source_errors,
					     err)) != 0)
				goto out;
			got += sgot;
			if (sgot == 0 || (total += sgot) >= (size_t)16 << 20)
				break;
		}
		while (!spool_full(r.spool)) {
			size_t agot = 0;
			if ((rc = lines_read(&r.acts, buf, READ_CHUNK, &agot, action_line, &r, &r.lost, &r.source_errors,
					     err)) != 0)
				goto out;
			got += agot;
			if (agot == 0 || (total += agot) >= (size_t)16 << 20)
				break;
		}
		if (r.js != NULL && !spool_full(r.spool)) {
			size_t jgot = 0;
			if ((rc = read_journal(&r, &jgot, err)) != 0)
				goto out;
			got += jgot;
		}
		if ((r.fim != NULL || r.fim_remote) && !spool_full(r.spool)) {
			size_t fgot = 0;
			if ((rc = read_fim(&r, &fgot, err)) != 0)
				goto out;
		}
		if (r.batch.n > 0 && (r.batch.n >= o->batch_max || r.batch_raw >= BATCH_RAW_MAX ||
				      now - r.batch_started >= (int64_t)o->flush_ms)) {
			if ((rc = flush_batch(&r, err)) != 0)
				goto out;
		}
		while (spool_count(r.spool) > 0 && now >= r.next_send && send_one(&r, now))
			now = bw_now_ms();
		if (now >= r.next_heartbeat) {
			send_heartbeat(&r);
			r.next_heartbeat = now + (int64_t)o->heartbeat_secs * 1000;
		}
		if (stdin_done && o->audit_log == NULL) {
			say(&r, "auditd closed the dispatcher's pipe: stopping");
			break;
		}
		if (stdin_done && !stdin_said) {
			say(&r, "auditd closed the dispatcher's pipe: going on with its log (%llu events had come both ways)",
			    (unsigned long long)r.duplicates);
			stdin_said = true;
		}
		if (stop_asked(o->stop_fd, got > 0 ? 0 : 200))
			break;
	}
	/* Stopping: what was read goes to the spool, so nothing read is read again. */
	rc = flush_batch(&r, err);
	if (rc == 0 && (r.fim_remote ? broker_fim_save(&r.broker, err) : r.fim != NULL ? fim_save(r.fim, err) : 0) != 0)
		say(&r, "fim: the baseline was not saved: %s", err->msg);
	if (rc == 0) {
		char *pos = positions_json(&r, r.next_seq - 1);
		if (pos == NULL || save_positions(&r, pos, err) != 0)
			say(&r, "positions not saved: %s", pos == NULL ? "out of memory" : err->msg);
		free(pos);
	}
	if (rc == 0) {
		int64_t now = bw_now_ms();
		while (spool_count(r.spool) > 0 && now >= r.next_send && send_one(&r, now))
			;
		say(&r, "agent run: stopped; %zu batch(es) spooled", spool_count(r.spool));
	}
out:
	free(buf);
	free(sv.cursor);
	run_clear(&r);
	return rc;
}
