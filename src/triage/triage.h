/*
 * triage: what a reported mail or file is, with reasons. A sample is walked
 * as deep as it goes: a mail's parts and attachments (GMime), archives and
 * disk images (libarchive, under bounds on depth, members, sizes and ratio),
 * each member's true type (libmagic) against its name, office documents,
 * RTF and PDF for the lures' tricks. Every finding is a reason with a weight
 * and the member path it was found in; the verdict follows from their sum.
 * Indicators (hashes, URLs, domains, sender addresses) are collected for
 * sharing. Nothing from a sample is ever executed or rendered.
 *
 * A sample is hostile input: triage_scan_isolated runs the walk in a
 * separate process, unprivileged, under rlimits and a seccomp filter with a
 * wall-clock timeout, so a crash or hang of a parser fails that one report.
 */
#ifndef BW_TRIAGE_H
#define BW_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"

struct triage_limits {
	unsigned depth;			/* containers inside containers (a mail counts) */
	size_t members;			/* members unpacked in all */
	uint64_t total;			/* bytes unpacked in all */
	uint64_t member;		/* bytes of one member */
	unsigned ratio;			/* unpacked / packed bytes of an archive, past 1 MiB unpacked */
};
/* depth 8, 5,000 members, 512 MiB in all, 128 MiB per member, ratio 100. */
void triage_limits_default(struct triage_limits *l);

/* bulwark's own YARA rules (the .yar files of rules/yara, compiled in): name and text; the table ends with a NULL name. */
struct triage_builtin {
	const char *name;
	const char *text;		/* NUL-terminated */
	size_t len;
};
extern const struct triage_builtin triage_builtin_yara[];

struct triage_opts {
	struct triage_limits lim;
	/*
	 * The organisation's own YARA rules: every *.yar / *.yara file of this
	 * directory (NULL: bulwark's only). A file that does not compile stops
	 * triage_new with its name, line and message.
	 */
	const char *yara_dir;
	const char *const *org_domains;	/* the organisation's mail domains (lookalikes are a reason) */
	size_t norg;
};

enum triage_verdict { TRIAGE_CLEAN, TRIAGE_SPAM, TRIAGE_SUSPICIOUS, TRIAGE_THREAT };
const char *triage_verdict_name(enum triage_verdict v);
#define TRIAGE_SUSPICIOUS_AT 25		/* score from which a sample is suspicious */
#define TRIAGE_THREAT_AT 60		/* ... and a threat */

struct triage;
/*
 * Loads the engine (libmagic's database, GMime, the YARA rules compiled)
 * with o copied. Caller frees with triage_free().
 */
int triage_new(const struct triage_opts *o, struct triage **out, struct bw_err *err);
void triage_free(struct triage *t);

/*
 * Triages sample data (len bytes) named name (its file name, or "" for a
 * mail piped in) in this process. *result (caller decrefs):
 * {"verdict", "score", "reasons": [{"code", "text", "where", "weight"}],
 * "indicators": [{"type": "sha256"|"url"|"domain"|"email"|"yara", "value"}],
 * "members", "type"}. Non-zero only when it could not run (out of memory):
 * a malformed sample is a finding, not an error.
 */
int triage_scan(struct triage *t, const char *name, const uint8_t *data, size_t len, json_t **result, struct bw_err *err);

/* The YARA pass alone over data (benchmarks, hunting a corpus): *matches counts the rules that matched. */
int triage_yara_count(struct triage *t, const uint8_t *data, size_t len, size_t *matches, struct bw_err *err);
/*
 * The source of YARA rule id ("namespace:rule", as a triage's "yara"
 * indicator names it) to share as a STIX indicator of pattern_type yara:
 * bulwark's rules (namespace "bulwark"), or one of yara_dir's files (its
 * namespace is the file's name) when the rule's meta says share = true;
 * the file's imports come with it, and the text must compile on its own
 * (libyara). *out is NUL-terminated (caller frees). BW_ENOTFOUND, BW_ENOTSUP
 * (needs other rules), BW_EDENIED (not marked for sharing).
 */
int triage_yara_rule_text(const char *yara_dir, const char *id, char **out, struct bw_err *err);

/* A result for a sample that could not be triaged: {"verdict": "failed", "failed": why, ...}. Caller decrefs. */
json_t *triage_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The worker's bounds (sandbox.c). */
struct triage_sandbox {
	unsigned timeout_ms;		/* wall clock; 0: 60 s */
	unsigned cpu_secs;		/* RLIMIT_CPU; 0: 30 */
	uint64_t memory;		/* RLIMIT_AS in bytes; 0: 2 GiB (not set in sanitizer builds) */
	const char *user;		/* when root: run as this user (NULL: nobody) */
};
/*
 * triage_scan in a worker process: forked from this one (the engine is
 * loaded already), then rlimits, no new privileges, another user when
 * root, and a seccomp filter (no files opened, no sockets, no programs)
 * before it reads the sample. A worker that crashes, is killed, runs out
 * of a limit or of time gives a result {"verdict": "failed", "failed":
 * REASON}; the next scan forks a new worker. Non-zero only when no worker
 * could be started.
 */
int triage_scan_isolated(struct triage *t, const struct triage_sandbox *sb, const char *name, const uint8_t *data,
			 size_t len, json_t **result, struct bw_err *err);

/*
 * A multi-threaded program (the server) must not fork workers itself: a
 * child forked while another thread holds a lock (in the allocator, in a
 * TLS library) can hang on it. The zygote is a helper process forked by
 * triage_zygote_start while the caller still has one thread (call it
 * before starting any); it forks the workers, and the caller hands it
 * samples over a socket. triage_zygote_scan may be called from any thread
 * (one scan at a time). The zygote ends when it is stopped or its parent
 * dies.
 */
struct triage_zygote;
/*
 * respawn_argv (NULL: none) is the command that runs a zygote program on
 * fd 3 (`bulwark triage-zygote ...`, the same engine options): with it, a
 * zygote that died is started again, as a new program, at the next scan.
 */
int triage_zygote_start(struct triage *t, const struct triage_sandbox *sb, const char *const *respawn_argv,
			struct triage_zygote **out, struct bw_err *err);
/* The zygote's loop on fd (a zygote program's main; never returns). */
void triage_zygote_main(struct triage *t, const struct triage_sandbox *sb, int fd) __attribute__((noreturn));
/* How many times the zygote was started again. */
int triage_zygote_restarts(struct triage_zygote *z);
/*
 * triage_scan_isolated through the zygote (started again first when it died
 * and it can be). Non-zero only when no zygote could take the sample.
 */
int triage_zygote_scan(struct triage_zygote *z, const char *name, const uint8_t *data, size_t len, json_t **result,
		       struct bw_err *err);
/* Ends a scan in progress at once (it fails) and every later one: for a prompt shutdown, from any thread. */
void triage_zygote_cancel(struct triage_zygote *z);
void triage_zygote_stop(struct triage_zygote *z);

/*
 * A sample packed for an analyst to take away: a ZIP (AES-256, WinZip
 * style) holding it as member name, encrypted under passphrase (the
 * convention is "infected"), so that nothing opens or scans it by accident
 * on the way. Caller frees *out.
 */
int triage_zip_sample(const char *name, const uint8_t *data, size_t len, const char *passphrase, uint8_t **out,
		      size_t *outlen, struct bw_err *err);

/* ---- a report that arrived by mail (intake.c) ---- */

struct triage_intake {
	char from[320];			/* the sender of the mail that arrived (the reporter), "" when none */
	bool verified;			/* the receiving MTA's Authentication-Results vouch for its domain */
	char auth[240];			/* which result vouched, or why none did */
	bool forwarded;			/* the mail forwards one message as an attachment (a report button's way) */
	uint8_t *original;		/* what is reported: that attached message, else the whole mail */
	size_t original_len;
	char comment[1025];		/* forwarded: the forwarding mail's own text (trimmed, UTF-8) */
};
/*
 * Reads a mail that arrived at the report mailbox: its sender, whether the
 * topmost Authentication-Results header (RFC 8601; of authserv_id when not
 * NULL, so a header the sender forged under another id is ignored) shows
 * dkim=pass with header.d, spf=pass with smtp.mailfrom, or dmarc=pass with
 * header.from in the sender's domain; and the reported message. BW_EINVAL
 * when it is not a mail. Clear with triage_intake_clear().
 */
int triage_mail_intake(const uint8_t *data, size_t len, const char *authserv_id, struct triage_intake *out,
		       struct bw_err *err);
void triage_intake_clear(struct triage_intake *in);

#endif /* BW_TRIAGE_H */
