/* cli/cmd_log.c: `bulwark log ...`: the durable, verifiable audit log. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "events/events.h"
#include "witness/witness.h"
#include "tlog/tlog.h"

static const char log_usage[] =
    "usage: bulwark log <command> [options]\n"
    "\n"
    "  init --dir D --origin ORIGIN\n"
    "      Create a log in D with a new Ed25519 key (D/log.key, mode 0600) and\n"
    "      print its verifier key. ORIGIN names the log, e.g. example.com/audit.\n"
    "  append --dir D [--batch N] [--max-delay-ms MS] [--integrate-ms MS] [FILE...]\n"
    "      Append each named file as one entry, or each line of stdin (without its\n"
    "      newline). Prints each entry's index once it is durable in the log's\n"
    "      journal (acknowledged). Appends are sequenced in groups of up to N\n"
    "      entries (default 65536) or after --max-delay-ms (default 10); tiles and\n"
    "      a signed checkpoint follow every --integrate-ms (default 250) and always\n"
    "      before the command exits. Entries are 1..65535 bytes; an empty or\n"
    "      longer line stops the run with an error after committing the lines\n"
    "      before it.\n"
    "  checkpoint --dir D\n"
    "      Print the latest signed checkpoint.\n"
    "  prove --dir D --index N [--extra BASE64]\n"
    "      Print a c2sp.org/tlog-proof@v1 file for entry N.\n"
    "  verify-proof --vkey VKEY --entry FILE [--transition T]... [--policy POLICY] PROOF\n"
    "      Verify a tlog-proof offline: the checkpoint is signed by VKEY and the\n"
    "      entry (the exact bytes of FILE) is included. Exit 0 when it holds.\n"
    "      Each --transition (in order) is a key transition of the log (a file of\n"
    "      D/key-transitions, or a proof of GET /log/key-transitions) followed\n"
    "      from VKEY: the checkpoint must then be signed by the key of its size.\n"
    "      With --policy (c2sp.org/tlog-policy, docs/WITNESS.md), the checkpoint\n"
    "      must also carry the policy's quorum of witness cosignatures.\n"
    "  witness --dir D --policy POLICY [--cacert PEM]\n"
    "      Send the log's checkpoint to each witness of POLICY that has a URL\n"
    "      (c2sp.org/tlog-witness; learning each one's size from a 409, then\n"
    "      proving consistency from it), and print the checkpoint with the\n"
    "      cosignatures that verify. Exit 0 when they meet the policy's quorum\n"
    "      (the cosigned checkpoint is then kept as D/checkpoint.cosigned, and\n"
    "      prove puts it in the proofs of the entries it covers).\n"
    "  consistency --dir D --old SIZE\n"
    "      Print a consistency proof from SIZE to the latest checkpoint, in the\n"
    "      tlog-witness add-checkpoint form (old SIZE, hashes, blank, checkpoint).\n"
    "  audit --dir D --vkey VKEY [--trusted CHECKPOINT] [--policy POLICY]\n"
    "      Recompute the whole tree from the entries, check every tile and the\n"
    "      checkpoint signature, and, given an earlier trusted checkpoint, check\n"
    "      that the log only grew from it. Exit 0 only when everything holds.\n"
    "      The log's key transitions (D/key-transitions) are followed in order\n"
    "      from VKEY: each checkpoint must be signed by the key of its size.\n"
    "      With --policy, the trusted checkpoint (default: D/checkpoint.cosigned,\n"
    "      kept by `log witness` and by a server asking witnesses) must carry\n"
    "      the policy's quorum of witness cosignatures, and the log must extend it.\n"
    "  rotate-key [--data DIR] [--server URL] [--token TOKEN] [--cacert PEM]\n"
    "      Rotate the audit log's signing key: a log.key_transition entry names a\n"
    "      new key, the checkpoint just past it is signed by both keys and later\n"
    "      ones by the new key only; the old signing key is erased\n"
    "      (docs/OPERATIONS.md). Through the running server (an admin's token;\n"
    "      BULWARK_SERVER, BULWARK_TOKEN, BULWARK_CACERT), or with --data on a\n"
    "      data directory whose server is stopped.\n"
    "\n"
    "VKEY is the verifier key text or a file holding it (e.g. D/log.vkey, the\n"
    "key that signs now; pin the log's first key to check every transition).\n";

#define MAX_FILES 4096

static int
usage_error(const char *msg)
{
	if (msg != NULL)
		cli_errorf("log: %s", msg);
	fputs(log_usage, stderr);
	return CLI_USAGE;
}

/* ---- init ---------------------------------------------------------------- */

static int
log_init(int argc, char **argv)
{
	struct cli_args a;
	const char *dir, *origin;
	char *pos[1], *vkey = NULL;
	size_t npos;
	struct bw_err err = { 0 };

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_opt(&a, "--origin", &origin) ||
	    cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (dir == NULL || origin == NULL)
		return usage_error("init needs --dir and --origin");
	if (tlog_store_create(dir, origin, &vkey, &err) != 0)
		return cli_fail("init", &err);
	printf("%s\n", vkey);
	free(vkey);
	return CLI_OK;
}

/* ---- append -------------------------------------------------------------- */

struct appender {
	struct tlog_store *s;
	struct tlog_integrator *it;	/* tiles and checkpoint follow the journal on their own thread */
	uint64_t first;		/* index of the first pending entry */
	uint64_t batch;
	int delay_ms;
	double first_pending_at;
};

/*
 * Integration: every 250 ms (--integrate-ms), or as soon as 2^20 entries or
 * 8 MiB wait; sequencing pauses while 32 MiB wait.
 */
static const struct tlog_integrator_policy append_policy = {
	.interval_ms = 250,
	.max_entries = 1u << 20,
	.max_bytes = (uint64_t)8 << 20,
	.limit_bytes = (uint64_t)32 << 20,
};

static double
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Sequences pending entries (durable in the journal) and prints their indexes. */
static int
appender_flush(struct appender *ap, struct bw_err *err)
{
	uint64_t i, end;
	int r;

	if (tlog_store_pending(ap->s) == 0)
		return 0;
	end = tlog_store_durable(ap->s) + tlog_store_pending(ap->s);
	if ((r = tlog_integrator_throttle(ap->it, err)) != 0 || (r = tlog_store_sequence(ap->s, err)) != 0)
		return r;
	tlog_integrator_kick(ap->it);
	for (i = ap->first; i < end; i++)
		if (printf("%llu\n", (unsigned long long)i) < 0)
			return bw_err_set(err, BW_EIO, "cannot write to stdout");
	if (fflush(stdout) != 0)
		return bw_err_set(err, BW_EIO, "cannot write to stdout");
	ap->first = end;
	return 0;
}

static int
appender_add(struct appender *ap, const void *p, size_t n, struct bw_err *err)
{
	uint64_t idx;
	int r;

	if (tlog_store_pending(ap->s) == 0)
		ap->first_pending_at = now_ms();
	if ((r = tlog_store_append(ap->s, p, n, &idx, err)) != 0)
		return r;
	if (tlog_store_pending(ap->s) >= ap->batch)
		return appender_flush(ap, err);
	return 0;
}

/* Reads stdin line by line into buf; commits by count or when input pauses past the delay. */
static int
append_lines_buf(struct appender *ap, uint8_t *buf, size_t cap, struct bw_err *err)
{
	size_t have = 0, lineno = 0;
	int eof = 0, r;

	while (!eof) {
		ssize_t got;
		size_t start = 0, i;

		if (tlog_store_pending(ap->s) > 0) {
			int wait = ap->delay_ms - (int)(now_ms() - ap->first_pending_at);
			struct pollfd pfd = { .fd = 0, .events = POLLIN };
			if (wait < 0)
				wait = 0;
			if (poll(&pfd, 1, wait) == 0) {
				if ((r = appender_flush(ap, err)) != 0)
					return r;
				continue;
			}
		}
		got = read(0, buf + have, cap - have);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return bw_err_set(err, BW_EIO, "cannot read stdin: %s", strerror(errno));
		}
		if (got == 0)
			eof = 1;
		have += (size_t)got;
		for (i = 0; i < have; i++) {
			if (buf[i] != '\n')
				continue;
			lineno++;
			if (i == start) {
				r = bw_err_set(err, BW_EINVAL, "stdin line %zu: empty line (entries are 1..%d bytes)",
					       lineno, TLOG_ENTRY_MAX);
				goto bad_line;
			}
			if ((r = appender_add(ap, buf + start, i - start, err)) != 0) {
				if (r == BW_ERANGE)
					goto bad_line_prefix;
				return r;
			}
			start = i + 1;
		}
		if (eof && start < have) {	/* last line without a newline */
			lineno++;
			if ((r = appender_add(ap, buf + start, have - start, err)) != 0) {
				if (r == BW_ERANGE)
					goto bad_line_prefix;
				return r;
			}
			start = have;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == cap) {
			lineno++;
			r = bw_err_set(err, BW_ERANGE, "stdin line %zu: longer than %d bytes", lineno,
				       TLOG_ENTRY_MAX);
			goto bad_line;
		}
	}
	return appender_flush(ap, err);
bad_line_prefix:
	bw_err_prefix(err, "stdin line %zu", lineno);
bad_line:
	{
		/* Commit what came before the bad line, then report it. */
		struct bw_err ferr = { 0 };
		if (appender_flush(ap, &ferr) != 0)
			cli_fail("append", &ferr);
	}
	return r;
}

static int
append_lines(struct appender *ap, struct bw_err *err)
{
	const size_t cap = 1 << 20;	/* longer than any valid line */
	uint8_t *buf = malloc(cap);
	int r;

	if (buf == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = append_lines_buf(ap, buf, cap, err);
	free(buf);
	return r;
}

static int
log_append(int argc, char **argv)
{
	struct cli_args a;
	const char *dir, *batch_s, *delay_s, *integrate_s;
	struct tlog_integrator_policy policy = append_policy;
	char *files[MAX_FILES];
	size_t nfiles, i;
	uint64_t batch = 65536, delay = 10, integrate_ms = append_policy.interval_ms;
	struct appender ap = { 0 };
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_opt(&a, "--batch", &batch_s) ||
	    cli_opt(&a, "--max-delay-ms", &delay_s) || cli_opt(&a, "--integrate-ms", &integrate_s) ||
	    cli_positional(&a, files, MAX_FILES, &nfiles))
		return CLI_USAGE;
	if (dir == NULL)
		return usage_error("append needs --dir");
	if ((batch_s && cli_parse_range("--batch", batch_s, 1, 1u << 24, &batch)) ||
	    (delay_s && cli_parse_range("--max-delay-ms", delay_s, 0, 60000, &delay)) ||
	    (integrate_s && cli_parse_range("--integrate-ms", integrate_s, 1, 60000, &integrate_ms)))
		return CLI_USAGE;
	policy.interval_ms = (unsigned)integrate_ms;
	/* Read every named file first: a bad file appends nothing. */
	uint8_t **data = calloc(nfiles + 1, sizeof *data);
	size_t *lens = calloc(nfiles + 1, sizeof *lens);
	if (data == NULL || lens == NULL) {
		cli_errorf("out of memory");
		goto out;
	}
	for (i = 0; i < nfiles; i++) {
		if (bw_file_read(files[i], TLOG_ENTRY_MAX, &data[i], &lens[i], &err) != 0) {
			if (err.code == BW_ERANGE)
				cli_errorf("append: %s: entries are 1..%d bytes", files[i], TLOG_ENTRY_MAX);
			else
				cli_fail("append", &err);
			goto out;
		}
		if (lens[i] == 0) {
			cli_errorf("append: %s is empty (entries are 1..%d bytes)", files[i], TLOG_ENTRY_MAX);
			goto out;
		}
	}
	if (tlog_store_open(dir, &ap.s, &err) != 0) {
		cli_fail("append", &err);
		goto out;
	}
	{
		const char *where;
		size_t n = tlog_store_discarded(ap.s, &where);
		if (n > 0)
			cli_errorf("append: recovered: %zu file(s) past the checkpoint (an interrupted batch, "
				   "or a rolled-back checkpoint) moved to %s", n, where);
	}
	if (tlog_integrator_start(ap.s, &policy, &ap.it, &err) != 0) {
		cli_fail("append", &err);
		goto out;
	}
	ap.first = tlog_store_size(ap.s);
	ap.batch = batch;
	ap.delay_ms = (int)delay;
	if (nfiles > 0) {
		for (i = 0; i < nfiles; i++)
			if (tlog_store_append(ap.s, data[i], lens[i], &(uint64_t){ 0 }, &err) != 0) {
				cli_fail("append", &err);
				goto out;
			}
		if (appender_flush(&ap, &err) != 0) {
			cli_fail("append", &err);
			goto out;
		}
	} else if (append_lines(&ap, &err) != 0) {
		cli_fail("append", &err);
		goto out;
	}
	rc = CLI_OK;
out:
	/* Whatever was acknowledged is integrated before exit, so 'log prove' works right after. */
	if (ap.it != NULL && tlog_integrator_stop(ap.it, &err) != 0)
		rc = cli_fail("append", &err);
	for (i = 0; data != NULL && i < nfiles; i++)
		free(data[i]);
	free(data);
	free(lens);
	tlog_store_close(ap.s);
	return rc;
}

/* ---- reading commands ------------------------------------------------------ */

/* Reads dir's checkpoint (to prove index under: the cosigned one when it covers it) verified with dir/log.vkey. */
static int
load_checkpoint(const char *dir, uint64_t index, uint8_t **note, size_t *len, struct tlog_checkpoint *cp,
		struct bw_err *err)
{
	char path[4096];
	struct note_verifier *v = NULL;
	int r;

	*note = NULL;
	snprintf(path, sizeof path, "%s/%s", dir, TLOG_VKEY_FILE);
	if ((r = cli_load_verifier(path, &v, err)) != 0)
		goto out;
	r = index == UINT64_MAX ? tlog_checkpoint_load(dir, &v, 1, note, len, cp, err)
				: tlog_checkpoint_load_for(dir, index, &v, 1, note, len, cp, err);
out:
	note_verifier_free(v);
	return r;
}

int
cli_log_checkpoint(const char *dir, uint8_t **note, size_t *len, struct tlog_checkpoint *cp, struct bw_err *err)
{
	return load_checkpoint(dir, UINT64_MAX, note, len, cp, err);
}

int
cli_log_checkpoint_for(const char *dir, uint64_t index, uint8_t **note, size_t *len, struct tlog_checkpoint *cp,
		       struct bw_err *err)
{
	return load_checkpoint(dir, index, note, len, cp, err);
}

static int
log_checkpoint(int argc, char **argv)
{
	struct cli_args a;
	const char *dir;
	char *pos[1];
	size_t npos, len;
	uint8_t *note = NULL;
	struct tlog_checkpoint cp;
	struct bw_err err = { 0 };

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (dir == NULL)
		return usage_error("checkpoint needs --dir");
	if (cli_log_checkpoint(dir, &note, &len, &cp, &err) != 0)
		return cli_fail("checkpoint", &err);
	fwrite(note, 1, len, stdout);
	free(note);
	tlog_checkpoint_clear(&cp);
	return CLI_OK;
}

static int
log_prove(int argc, char **argv)
{
	struct cli_args a;
	const char *dir, *index_s, *extra_s;
	char *pos[1], *out = NULL;
	size_t npos, len, outlen;
	uint64_t index;
	uint8_t *note = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_proof_file pf = { 0 };
	struct tlog_tiles *t = NULL;
	struct tlog_reader rd;
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_opt(&a, "--index", &index_s) ||
	    cli_opt(&a, "--extra", &extra_s) || cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (dir == NULL || index_s == NULL)
		return usage_error("prove needs --dir and --index");
	if (cli_parse_u64("--index", index_s, &index))
		return CLI_USAGE;
	if (extra_s != NULL) {
		size_t cap = strlen(extra_s) / 4 * 3 + 1;
		if (*extra_s == '\0' || (pf.extra = malloc(cap)) == NULL ||
		    bw_base64_decode(extra_s, strlen(extra_s), pf.extra, cap, &pf.extra_len) != 0) {
			cli_errorf("--extra must be non-empty padded base64");
			free(pf.extra);
			return CLI_USAGE;
		}
	}
	if (cli_log_checkpoint_for(dir, index, &note, &len, &cp, &err) != 0 ||
	    tlog_tiles_open(dir, &t, &err) != 0 || bw_sha256_new(&h, &err) != 0)
		goto fail;
	if (index >= cp.size) {
		cli_errorf("prove: index %llu is not in the log (size %llu)", (unsigned long long)index,
			   (unsigned long long)cp.size);
		goto out;
	}
	rd = tlog_tiles_reader(t, cp.size);
	pf.index = index;
	pf.checkpoint = (char *)note;
	pf.checkpoint_len = len;
	note = NULL; /* transferred */
	if (tlog_prove_inclusion(h, &rd, index, cp.size, &pf.proof, &err) != 0 ||
	    tlog_proof_file_format(&pf, &out, &outlen, &err) != 0)
		goto fail;
	fwrite(out, 1, outlen, stdout);
	rc = CLI_OK;
	goto out;
fail:
	cli_fail("prove", &err);
out:
	free(out);
	free(note);
	tlog_proof_file_clear(&pf);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
	return rc;
}

static int
log_verify_proof(int argc, char **argv)
{
	struct cli_args a;
	const char *vkey_arg, *entry_path, *policy_path = NULL;
	char *pos[2], why[300] = "";
	size_t npos, plen = 0, elen = 0, tlen = 0;
	uint8_t *proof = NULL, *entry = NULL, *ptext = NULL;
	struct note_verifier *v = NULL;
	struct tlog_keychain keys = { 0 };
	const char *transitions[TLOG_KEYCHAIN_MAX];
	size_t ntrans = 0, i;
	struct witness_policy *policy = NULL;
	struct note *n = NULL;
	struct tlog_proof_file pf = { 0 };
	struct tlog_checkpoint cp = { 0 };
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--vkey", &vkey_arg) || cli_opt(&a, "--entry", &entry_path) ||
	    cli_opt(&a, "--policy", &policy_path) ||
	    cli_opt_all(&a, "--transition", transitions, TLOG_KEYCHAIN_MAX - 1, &ntrans) ||
	    cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	if (vkey_arg == NULL || entry_path == NULL || npos != 1)
		return usage_error("verify-proof needs --vkey, --entry and a PROOF file");
	if (cli_load_verifier(vkey_arg, &v, &err) != 0) {
		cli_fail("--vkey", &err);
		goto out;
	}
	/* the key pinned, then each transition given, in order: the proof's checkpoint must be signed by the key of its size */
	tlog_keychain_init_key(&keys, v);
	v = NULL;
	if (bw_sha256_new(&h, &err) != 0) {
		cli_fail("verify-proof", &err);
		goto out;
	}
	for (i = 0; i < ntrans; i++) {
		uint8_t *t = NULL;
		size_t tl = 0;
		int r = cli_read_input(transitions[i], TLOG_PROOF_FILE_MAX, &t, &tl, &err);
		if (r == 0)
			r = tlog_keychain_follow(&keys, h, t, tl, ev_log_key_transition_key, NULL, NULL, &err);
		free(t);
		if (r != 0) {
			cli_fail(transitions[i], &err);
			goto out;
		}
	}
	if (cli_read_input(entry_path, TLOG_ENTRY_MAX, &entry, &elen, &err) != 0) {
		cli_fail("--entry", &err);
		goto out;
	}
	if (policy_path != NULL &&
	    (cli_read_input(policy_path, WITNESS_POLICY_TEXT_MAX, &ptext, &tlen, &err) != 0 ||
	     witness_policy_parse((const char *)ptext, tlen, &policy, &err) != 0)) {
		cli_fail("--policy", &err);
		goto out;
	}
	if (cli_read_input(pos[0], TLOG_PROOF_FILE_MAX, &proof, &plen, &err) != 0 ||
	    tlog_proof_file_parse(proof, plen, &pf, &err) != 0) {
		cli_fail(pos[0], &err);
		goto out;
	}
	if (tlog_keychain_verify_proof(h, &keys, &pf, entry, elen, &cp, &err) != 0) {
		cli_fail("verify-proof", &err);
		goto out;
	}
	/* with a policy, the checkpoint must also carry the quorum of cosignatures */
	if (policy != NULL &&
	    (note_parse((const uint8_t *)pf.checkpoint, pf.checkpoint_len, &n, &err) != 0 ||
	     witness_policy_check_quorum(policy, n, cp.origin, why, sizeof why) != 0)) {	/* signed by VKEY: checked above */
		cli_errorf("verify-proof: %s", why[0] ? why : err.msg);
		goto out;
	}
	printf("OK: entry %llu is in log %s (checkpoint size %llu)%s%s\n", (unsigned long long)pf.index, cp.origin,
	       (unsigned long long)cp.size, policy != NULL ? "; witnesses: " : "", policy != NULL ? why : "");
	rc = CLI_OK;
out:
	witness_policy_free(policy);
	note_free(n);
	free(ptext);
	free(proof);
	free(entry);
	note_verifier_free(v);
	tlog_keychain_clear(&keys);
	tlog_proof_file_clear(&pf);
	tlog_checkpoint_clear(&cp);
	bw_sha256_free(h);
	return rc;
}

static int
log_consistency(int argc, char **argv)
{
	struct cli_args a;
	const char *dir, *old_s;
	char *pos[1];
	size_t npos, len;
	uint64_t old;
	uint8_t *note = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_tiles *t = NULL;
	struct tlog_reader rd;
	struct tlog_proof p = { 0 };
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_opt(&a, "--old", &old_s) ||
	    cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (dir == NULL || old_s == NULL)
		return usage_error("consistency needs --dir and --old");
	if (cli_parse_u64("--old", old_s, &old))
		return CLI_USAGE;
	if (cli_log_checkpoint(dir, &note, &len, &cp, &err) != 0 ||
	    tlog_tiles_open(dir, &t, &err) != 0 || bw_sha256_new(&h, &err) != 0) {
		cli_fail("consistency", &err);
		goto out;
	}
	if (old > cp.size) {
		cli_errorf("consistency: --old %llu is larger than the log (size %llu)",
			   (unsigned long long)old, (unsigned long long)cp.size);
		goto out;
	}
	rd = tlog_tiles_reader(t, cp.size);
	if (old > 0 && old < cp.size && tlog_prove_consistency(h, &rd, old, cp.size, &p, &err) != 0) {
		cli_fail("consistency", &err);
		goto out;
	}
	printf("old %llu\n", (unsigned long long)old);
	{
		struct bw_buf b = { 0 };
		if (tlog_proof_lines_format(&p, &b) != 0) {
			cli_errorf("out of memory");
			goto out;
		}
		if (b.len > 0)
			fwrite(b.data, 1, b.len, stdout);
		bw_buf_free(&b);
	}
	printf("\n");
	fwrite(note, 1, len, stdout);
	rc = CLI_OK;
out:
	free(note);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
	return rc;
}

static void
audit_progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\raudit: %llu / %llu entries (%.1f%%)", (unsigned long long)done,
		(unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0);
	if (done == total)
		fputc('\n', stderr);
}

/* Does the trusted checkpoint carry the policy's quorum? why says. */
static bool
audit_quorum(const char *policy_path, const uint8_t *note, size_t len, char *why, size_t cap)
{
	struct witness_policy *p = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct note *n = NULL;
	uint8_t *text = NULL;
	size_t tl = 0;
	struct bw_err err = { 0 };
	bool ok = false;

	if (cli_read_input(policy_path, WITNESS_POLICY_TEXT_MAX, &text, &tl, &err) != 0 ||
	    witness_policy_parse((const char *)text, tl, &p, &err) != 0)
		snprintf(why, cap, "--policy: %.250s", err.msg);
	else if (note_parse(note, len, &n, &err) != 0 || tlog_checkpoint_parse(n->text, n->text_len, &cp, &err) != 0)
		snprintf(why, cap, "the trusted checkpoint: %.250s", err.msg);
	else
		ok = witness_policy_check_quorum(p, n, cp.origin, why, cap) == 0;	/* its log signature: by the audit's keys */
	tlog_checkpoint_clear(&cp);
	note_free(n);
	free(text);
	witness_policy_free(p);
	return ok;
}

static int
log_audit(int argc, char **argv)
{
	struct cli_args a;
	const char *dir, *vkey_arg, *trusted_path, *policy_path;
	char *pos[1], why[300] = "", cosigned[4200];
	size_t npos, tlen = 0, i;
	uint8_t *trusted = NULL;
	bool quorum_ok = true;
	struct note_verifier *v = NULL;
	struct tlog_keychain keys = { 0 };
	size_t ntrans = 0;
	struct tlog_audit_result res;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL, r;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_opt(&a, "--vkey", &vkey_arg) ||
	    cli_opt(&a, "--trusted", &trusted_path) || cli_opt(&a, "--policy", &policy_path) ||
	    cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (dir == NULL || vkey_arg == NULL)
		return usage_error("audit needs --dir and --vkey");
	if (policy_path != NULL && trusted_path == NULL) {
		if ((size_t)snprintf(cosigned, sizeof cosigned, "%s/%s", dir, TLOG_COSIGNED_FILE) >= sizeof cosigned)
			return usage_error("--dir is too long");
		trusted_path = cosigned;
	}
	if (cli_load_verifier(vkey_arg, &v, &err) != 0) {
		cli_fail("--vkey", &err);
		goto out;
	}
	/* the key pinned, then each key transition in order (each checked before the next is trusted) */
	r = tlog_keychain_load(dir, v, ev_log_key_transition_key, NULL, &keys, &ntrans, &err);
	v = NULL;	/* taken */
	if (r != 0) {
		printf("log:        %s\nkeys:       FAIL: %s\naudit: FAILED\n", dir, err.msg);
		goto out;
	}
	if (trusted_path != NULL &&
	    cli_read_input(trusted_path, NOTE_MAX_SIZE, &trusted, &tlen, &err) != 0) {
		cli_fail("--trusted", &err);
		goto out;
	}
	/* reported below, with the rest of the audit */
	if (policy_path != NULL)
		quorum_ok = audit_quorum(policy_path, trusted, tlen, why, sizeof why);
	r = tlog_audit(dir, &keys, trusted, tlen, isatty(2) ? audit_progress : NULL, NULL, &res, &err);
	if (r != 0 && r != BW_EVERIFY) {
		cli_fail("audit", &err);
		goto out;
	}
	printf("log:        %s\n", dir);
	printf("checkpoint: size %llu, signature %s\n", (unsigned long long)res.size,
	       res.signature_ok ? "valid" : "INVALID");
	if (ntrans > 0) {
		printf("keys:       %zu key transition%s followed:", ntrans, ntrans == 1 ? "" : "s");
		for (i = 1; i < keys.n; i++)
			printf(" entry %llu (handover at size %llu)%s", (unsigned long long)(keys.from[i] - 1),
			       (unsigned long long)keys.from[i], i + 1 < keys.n ? "," : "");
		if (keys.from[0] > 0)
			printf("%sthe key pinned signs from size %llu", keys.n > 1 ? "; " : " ",
			       (unsigned long long)keys.from[0]);
		printf("\n");
	}
	if (res.pruned > 0)
		printf("pruned:     entries 0..%llu (their bundles were deleted for retention; their leaf hashes "
		       "come from the level-0 tiles, which the levels above check)\n",
		       (unsigned long long)(res.pruned - 1));
	if (res.checked > res.pruned)
		printf("entries:    %llu..%llu recomputed from the entry bundles\n", (unsigned long long)res.pruned,
		       (unsigned long long)(res.checked - 1));
	else if (res.pruned == 0)
		printf("entries:    none\n");
	printf("tiles:      %s\n", res.tiles_ok ? "every stored hash matches the entries" : "MISMATCH");
	printf("root:       %s\n", res.root_ok ? "matches the checkpoint" : "DOES NOT MATCH");
	if (trusted != NULL)
		printf("trusted:    size %llu, %s\n", (unsigned long long)res.trusted_size,
		       res.trusted_ok ? "the log only grew from it" : "NOT CONSISTENT");
	if (policy_path != NULL)
		printf("witnesses:  %s%s\n", quorum_ok ? "" : "FAIL: ", why);
	if (!quorum_ok && r == 0)
		r = BW_EVERIFY;
	for (i = 0; i < res.nfindings; i++)
		printf("FAIL: %s\n", res.findings[i]);
	if (res.more_findings)
		printf("FAIL: ... and %zu more\n", res.more_findings);
	printf("%s\n", r == 0 ? "audit: OK" : "audit: FAILED");
	rc = r == 0 ? CLI_OK : CLI_FAIL;
out:
	free(trusted);
	note_verifier_free(v);
	tlog_keychain_clear(&keys);
	return rc;
}

int
cmd_log(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "init", log_init }, { "append", log_append }, { "checkpoint", log_checkpoint },
		{ "prove", log_prove }, { "verify-proof", log_verify_proof }, { "witness", cli_log_witness },
		{ "consistency", log_consistency }, { "audit", log_audit }, { "rotate-key", cli_log_rotate_key },
	};
	size_t i;

	if (argc < 1)
		return usage_error(NULL);
	for (i = 0; i < (size_t)argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[0], "help") == 0) {
			fputs(log_usage, stdout);
			return CLI_OK;
		}
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	cli_errorf("log: unknown command '%s'", argv[0]);
	return usage_error(NULL);
}
