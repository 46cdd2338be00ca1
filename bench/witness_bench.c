/*
 * witness_bench: the witness's two costs beside their floors, in one run.
 *
 *   witness_bench DIR [REQUESTS]
 *
 * Cosignatures verified per second (note_verify of a cosigned checkpoint
 * with the witness's key: message built, Ed25519 verified) beside the raw
 * Ed25519 verify rate of a message of the same size; and add-checkpoint
 * requests per second through the witness as `serve` runs them (request
 * parsed, the log's signature and the consistency proof checked, the new
 * size stored durably in the witness database, the cosignature made),
 * beside the raw rate of a 200-byte write and fdatasync on the same disk.
 * DIR must be on the disk being measured.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "witness/witness.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *what, const struct bw_err *err)
{
	fprintf(stderr, "witness_bench: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

static struct note_signer *
signer(const char *name, uint8_t alg, struct note_verifier **v)
{
	char *sk = NULL, *vk = NULL;
	struct note_signer *s = NULL;
	struct bw_err err = { 0 };

	if (note_key_generate_alg(name, alg, &sk, &vk, &err) != 0 || note_signer_parse(sk, strlen(sk), &s, &err) != 0 ||
	    note_verifier_parse(vk, strlen(vk), v, &err) != 0)
		die("key", &err);
	free(sk);
	free(vk);
	return s;
}

static int
seen_from_db(void *ctx, size_t log, struct witness_seen *out, struct bw_err *err)
{
	struct bw_witdb *db = ctx;
	int r = witdb_seen(db, "bench.example/log", &out->size, out->root.b, NULL, err);

	(void)log;
	if (r == BW_ENOTFOUND) {
		struct bw_sha256 *h = NULL;
		bw_err_clear(err);
		out->size = 0;
		if (bw_sha256_new(&h, err) != 0)
			return err->code;
		tlog_hash_empty(h, &out->root);
		bw_sha256_free(h);
		return 0;
	}
	return r;
}

int
main(int argc, char **argv)
{
	const char *dir;
	size_t requests = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000, i;
	struct bw_err err = { 0 };
	struct note_verifier *lv = NULL, *wv = NULL;
	struct note_signer *ls, *ws;
	struct bw_sha256 *h = NULL;
	double t;

	if (argc < 2) {
		fprintf(stderr, "usage: witness_bench DIR [REQUESTS]\n");
		return 2;
	}
	dir = argv[1];
	if (bw_crypto_init(&err) != 0 || bw_sha256_new(&h, &err) != 0)
		die("init", &err);
	ls = signer("bench.example/log", NOTE_ALG_ED25519, &lv);
	ws = signer("bench.example/witness", NOTE_ALG_COSIGNATURE_V1, &wv);

	/* ---- verification: cosignatures beside raw Ed25519 ---- */
	{
		static const char cp[] = "bench.example/log\n123456789\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
		char *signed_note = NULL, *line = NULL, full[1024];
		uint8_t sig[64], msg[128];
		struct note *n = NULL;
		size_t rounds = 20000, ok = 0;
		int len;

		if (note_sign(cp, strlen(cp), &ls, 1, &signed_note, NULL, &err) != 0 ||
		    note_cosign(cp, strlen(cp), ws, 1795845114, &line, &err) != 0)
			die("sign", &err);
		snprintf(full, sizeof full, "%s%s", signed_note, line);
		if (note_parse((const uint8_t *)full, strlen(full), &n, &err) != 0)
			die("parse", &err);
		len = snprintf((char *)msg, sizeof msg, "cosignature/v1\ntime 1795845114\n%s", cp);
		if (bw_ed25519_sign(&ws->key, msg, (size_t)len, sig, &err) != 0)
			die("sign", &err);
		t = now();
		for (i = 0; i < rounds; i++)
			ok += bw_ed25519_verify(wv->pk, msg, (size_t)len, sig) == 0;
		t = now() - t;
		printf("baseline: raw Ed25519 verify of a %d-byte message: %.0f/s\n", len, (double)rounds / t);
		{
			double raw = (double)rounds / t;
			t = now();
			for (i = 0; i < rounds; i++)
				ok += note_verify(n, &wv, 1, NULL, NULL, &err) == 0;
			t = now() - t;
			printf("cosignatures verified (note_verify with the witness key): %.0f/s (%.0f%% of raw)\n",
			       (double)rounds / t, 100.0 * ((double)rounds / t) / raw);
		}
		if (ok != 2 * rounds)
			die("a signature did not verify", NULL);
		note_free(n);
		free(signed_note);
		free(line);
	}

	/* ---- durability: add-checkpoint beside raw write + fdatasync ---- */
	{
		char path[1024];
		char rec[200];
		int fd;

		snprintf(path, sizeof path, "%s/raw.dat", dir);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
			die(path, NULL);
		memset(rec, 'x', sizeof rec);
		t = now();
		for (i = 0; i < requests; i++)
			if (write(fd, rec, sizeof rec) != (ssize_t)sizeof rec || fdatasync(fd) != 0)
				die("raw write", NULL);
		t = now() - t;
		close(fd);
		printf("baseline: raw 200-byte write + fdatasync: %.0f/s\n", (double)requests / t);
	}
	{
		struct tlog_memstore *m = NULL;
		struct tlog_frontier f;
		struct tlog_reader rd;
		struct bw_witdb *db = NULL;
		struct witness_log log = { "bench.example/log", lv };
		char **bodies = calloc(requests, sizeof *bodies), path[1024];
		size_t *lens = calloc(requests, sizeof *lens);
		uint64_t k;

		snprintf(path, sizeof path, "%s/witness.db", dir);
		unlink(path);
		if (bodies == NULL || lens == NULL || tlog_memstore_new(&m, &err) != 0 || witdb_open(path, &db, &err) != 0)
			die("setup", &err);
		/* the log grows by 1..7 entries between checkpoints; each request proves the step */
		tlog_frontier_init(&f);
		rd = tlog_memstore_reader(m);
		for (i = 0, k = 0; i < requests; i++) {
			uint64_t old = k, step = 1 + i % 7, j;
			struct tlog_hash root;
			struct tlog_proof proof = { 0 };
			struct bw_buf b = { 0 };
			char text[256], root64[64], *signed_note = NULL;
			for (j = 0; j < step; j++, k++) {
				char e[32];
				struct tlog_hash leaf;
				int el = snprintf(e, sizeof e, "entry %llu", (unsigned long long)k);
				tlog_hash_leaf(h, e, (size_t)el, &leaf);
				if (tlog_frontier_append(&f, h, &leaf, tlog_memstore_put, m, &err) != 0)
					die("tree", &err);
			}
			tlog_frontier_root(&f, h, &root);
			if (old > 0 && tlog_prove_consistency(h, &rd, old, k, &proof, &err) != 0)
				die("proof", &err);
			bw_base64_encode(root64, root.b, 32);
			snprintf(text, sizeof text, "bench.example/log\n%llu\n%s\n", (unsigned long long)k, root64);
			if (note_sign(text, strlen(text), &ls, 1, &signed_note, NULL, &err) != 0 ||
			    bw_buf_printf(&b, "old %llu\n", (unsigned long long)old) != 0 ||
			    tlog_proof_lines_format(&proof, &b) != 0 || bw_buf_printf(&b, "\n%s", signed_note) != 0)
				die("request", &err);
			free(signed_note);
			bodies[i] = bw_buf_take(&b, &lens[i]);
		}
		t = now();
		for (i = 0; i < requests; i++) {
			struct witness_request q;
			struct witness_decision d;
			uint64_t cur;
			char *line = NULL, *note_text;
			if (witness_request_parse((const uint8_t *)bodies[i], lens[i], &q, &err) != 0 ||
			    witness_check(&q, &log, 1, seen_from_db, db, &d, &err) != 0 || d.status != 200)
				die(d.reason[0] ? d.reason : "check", &err);
			note_text = strndup((const char *)q.note, q.note_len);
			if (note_text == NULL ||
			    witdb_advance(db, "bench.example/log", q.old, d.cp.size, d.cp.root.b, note_text, 0, &cur, &err) != 0 ||
			    note_cosign(d.note->text, d.note->text_len, ws, 1795845114, &line, &err) != 0)
				die("advance", &err);
			free(note_text);
			free(line);
			witness_decision_clear(&d);
		}
		t = now() - t;
		printf("add-checkpoint through the witness (parse, log signature, consistency proof, durable store, "
		       "cosignature): %.0f/s over %zu requests\n", (double)requests / t, requests);
		for (i = 0; i < requests; i++)
			free(bodies[i]);
		free(bodies);
		free(lens);
		witdb_close(db);
		tlog_memstore_free(m);
	}
	bw_sha256_free(h);
	note_verifier_free(lv);
	note_verifier_free(wv);
	note_signer_free(ls);
	note_signer_free(ws);
	return 0;
}
