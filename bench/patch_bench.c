/*
 * patch_bench: the agent's verification costs.
 *   patch_bench hash FILE      SHA-256 of FILE in 1 MiB blocks, as the agent hashes a
 *                              target (compare: openssl dgst -sha256 FILE, same run)
 *   patch_bench metadata N     signed targets metadata listing N targets: time to parse,
 *                              canonicalize and verify it (patch_client_targets), and to
 *                              look up and check every target entry
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "patch/patch.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
bench_hash(const char *path)
{
	uint8_t h[32];
	uint64_t len;
	char hex[65];
	struct bw_err err = { 0 };
	double t0 = now(), dt;

	if (patch_file_sha256(path, h, &len, &err) != 0) {
		fprintf(stderr, "patch_bench: %s\n", err.msg);
		return 1;
	}
	dt = now() - t0;
	bw_hex_encode(hex, h, 32);
	printf("agent SHA-256 of %llu bytes: %.2f s, %.0f MB/s (%s)\n", (unsigned long long)len, dt, (double)len / dt / 1e6,
	       hex);
	return 0;
}

static int
bench_metadata(long n)
{
	const int64_t t_now = 1795408404;
	struct bw_ed25519 root = { 0 }, tk = { 0 }, sk = { 0 };
	struct patch_trust tr = { 0 };
	struct bw_err err = { 0 };
	json_t *keys = json_object(), *roles = json_object(), *md = NULL, *snap = NULL, *o;
	char id[65], *bytes, *sbytes;
	uint8_t h[32];
	double t0, best = 1e9, lookup = 1e9;
	long i;
	int run;

	if (bw_ed25519_generate(&root, &err) || bw_ed25519_generate(&tk, &err) || bw_ed25519_generate(&sk, &err))
		return 1;
	o = patch_key_object(tk.pk);
	patch_key_id(o, id, NULL);
	json_object_set_new(keys, id, o);
	json_object_set_new(roles, "targets", json_pack("{s:[s], s:i}", "keyids", id, "threshold", 1));
	o = patch_key_object(sk.pk);
	patch_key_id(o, id, NULL);
	json_object_set_new(keys, id, o);
	json_object_set_new(roles, "snapshot", json_pack("{s:[s], s:i}", "keyids", id, "threshold", 1));
	tr.root = json_pack("{s:{s:s, s:s, s:i, s:s, s:o, s:o}, s:[]}", "signed", "_type", "root", "spec_version", "1.0.31",
			    "version", 1, "expires", "2100-01-01T00:00:00Z", "keys", keys, "roles", roles, "signatures");
	for (i = 0; i < n; i++) {
		struct patch_target_info info = { NULL, "1.0", "web1,web2", NULL };
		char name[64];
		snprintf(name, sizeof name, "pkg/hotfix-%06ld.tar", i);
		info.name = name;
		bw_sha256_oneshot(name, strlen(name), h);
		if (patch_targets_add(&md, &info, h, 1000 + (uint64_t)i, t_now, 30, &err) != 0) {
			fprintf(stderr, "patch_bench: %s\n", err.msg);
			return 1;
		}
	}
	patch_sign(md, &tk, &err);
	bytes = json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS);
	patch_snapshot_make(md, 1, t_now, 86400, &snap, &err);
	patch_sign(snap, &sk, &err);
	sbytes = json_dumps(snap, JSON_COMPACT | JSON_SORT_KEYS);
	for (run = 0; run < 5; run++) {
		double dt;
		json_decref(tr.targets);
		json_decref(tr.snapshot);
		tr.targets = NULL;
		tr.snapshot = json_loads(sbytes, 0, NULL);
		t0 = now();
		if (patch_client_targets(&tr, (uint8_t *)bytes, strlen(bytes), t_now, &err) != 0) {
			fprintf(stderr, "patch_bench: %s\n", err.msg);
			return 1;
		}
		dt = now() - t0;
		best = dt < best ? dt : best;
		t0 = now();
		{
			const char *name;
			json_t *e;
			json_object_foreach(json_object_get(json_object_get(tr.targets, "signed"), "targets"), name, e) {
				struct patch_target t;
				(void)e;
				if (patch_target_get(tr.targets, name, &t, &err) != 0 || !patch_target_for_host(&t, "web2", NULL))
					return 1;
			}
		}
		dt = now() - t0;
		lookup = dt < lookup ? dt : lookup;
	}
	printf("targets metadata with %ld targets (%zu bytes): verified in %.1f ms (parse + canonical JSON + Ed25519), "
	       "every entry checked for this host in %.1f ms (best of 5)\n", n, strlen(bytes), best * 1e3, lookup * 1e3);
	free(bytes);
	free(sbytes);
	json_decref(md);
	json_decref(snap);
	patch_trust_clear(&tr);
	bw_ed25519_free(&root);
	bw_ed25519_free(&tk);
	bw_ed25519_free(&sk);
	return 0;
}

int
main(int argc, char **argv)
{
	if (bw_crypto_init(NULL) != 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "hash") == 0)
		return bench_hash(argv[2]);
	if (argc == 3 && strcmp(argv[1], "metadata") == 0)
		return bench_metadata(strtol(argv[2], NULL, 10));
	fputs("usage: patch_bench hash FILE | patch_bench metadata N\n", stderr);
	return 2;
}
