/*
 * triage_bench: the speed of triage on samples made by scripts/bench_triage.py.
 *   triage_bench MIX_DIR YARA_DIR BIG_MAIL
 * Prints: YARA alone over every file of YARA_DIR in MB/s (bulwark's rules,
 * best of 3; the script times `yara -p 1` on the same files beside it);
 * reports of MIX_DIR triaged per second, each in its own worker as a server
 * does it, and in-process; and the time to triage BIG_MAIL in a worker.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "triage/triage.h"

struct sample {
	char name[256];
	uint8_t *data;
	size_t len;
};

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t
load_dir(const char *dir, struct sample **out)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct sample *s = NULL;
	size_t n = 0;
	char path[4096];
	struct bw_err err = { 0 };

	if (d == NULL) {
		fprintf(stderr, "triage_bench: %s cannot be read\n", dir);
		exit(1);
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if ((s = realloc(s, (n + 1) * sizeof *s)) == NULL)
			exit(1);
		snprintf(s[n].name, sizeof s[n].name, "%s", e->d_name);
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (bw_file_read(path, (size_t)1 << 30, &s[n].data, &s[n].len, &err) != 0) {
			fprintf(stderr, "triage_bench: %s\n", err.msg);
			exit(1);
		}
		if (strlen(s[n].name) > 4 && strcmp(s[n].name + strlen(s[n].name) - 4, ".eml") == 0)
			s[n].name[0] = '\0';	/* a mail, as piped in */
		n++;
	}
	closedir(d);
	*out = s;
	return n;
}

int
main(int argc, char **argv)
{
	struct triage_opts o = { 0 };
	struct triage_sandbox sb = { 0 };
	struct triage *t = NULL;
	struct bw_err err = { 0 };
	struct sample *mix, *corpus, big = { "", NULL, 0 };
	size_t nmix, ncorpus, i, matches, total = 0, reports;
	double best = 1e9, t0, el;
	int run;

	if (argc != 4) {
		fprintf(stderr, "usage: triage_bench MIX_DIR YARA_DIR BIG_MAIL\n");
		return 2;
	}
	triage_limits_default(&o.lim);
	if (bw_crypto_init(&err) != 0 || triage_new(&o, &t, &err) != 0) {
		fprintf(stderr, "triage_bench: %s\n", err.msg);
		return 1;
	}
	nmix = load_dir(argv[1], &mix);
	ncorpus = load_dir(argv[2], &corpus);
	if (bw_file_read(argv[3], (size_t)1 << 30, &big.data, &big.len, &err) != 0) {
		fprintf(stderr, "triage_bench: %s\n", err.msg);
		return 1;
	}
	for (i = 0; i < ncorpus; i++)
		total += corpus[i].len;
	for (run = 0; run < 3; run++) {
		size_t m = 0;
		t0 = now();
		for (i = 0; i < ncorpus; i++) {
			if (triage_yara_count(t, corpus[i].data, corpus[i].len, &matches, &err) != 0) {
				fprintf(stderr, "triage_bench: %s\n", err.msg);
				return 1;
			}
			m += matches;
		}
		el = now() - t0;
		if (el < best)
			best = el;
		if (run == 0)
			printf("bulwark YARA: %zu files, %.0f MB, %zu matches\n", ncorpus, (double)total / 1e6, m);
	}
	printf("bulwark YARA (libyara, one thread, best of 3): %.3f s, %.1f MB/s\n", best, (double)total / 1e6 / best);
	/* reports per second: the mix, each in its own worker, for at least 5 s (at most 2,000 reports) */
	for (int iso = 1; iso >= 0; iso--) {
		reports = 0;
		t0 = now();
		while (reports < 2000 && (reports < nmix || now() - t0 < 5.0)) {
			struct sample *s = &mix[reports % nmix];
			json_t *res = NULL;
			if ((iso ? triage_scan_isolated(t, &sb, s->name, s->data, s->len, &res, &err)
				 : triage_scan(t, s->name, s->data, s->len, &res, &err)) != 0) {
				fprintf(stderr, "triage_bench: %s\n", err.msg);
				return 1;
			}
			if (strcmp(json_string_value(json_object_get(res, "verdict")), "failed") == 0) {
				fprintf(stderr, "triage_bench: %s failed: %s\n", s->name,
					json_string_value(json_object_get(res, "failed")));
				return 1;
			}
			json_decref(res);
			reports++;
		}
		el = now() - t0;
		printf("reports triaged (%zu samples of the mix, %s): %zu in %.2f s, %.1f reports/s\n", nmix,
		       iso ? "each in its own worker" : "in-process", reports, el, (double)reports / el);
	}
	best = 1e9;
	for (run = 0; run < 3; run++) {
		json_t *res = NULL;
		t0 = now();
		if (triage_scan_isolated(t, &sb, "", big.data, big.len, &res, &err) != 0) {
			fprintf(stderr, "triage_bench: %s\n", err.msg);
			return 1;
		}
		el = now() - t0;
		if (el < best)
			best = el;
		if (run == 0)
			printf("big mail: %.1f MB, verdict %s, %lld members\n", (double)big.len / 1e6,
			       json_string_value(json_object_get(res, "verdict")),
			       (long long)json_integer_value(json_object_get(res, "members")));
		json_decref(res);
	}
	printf("big mail triaged in a worker (best of 3): %.3f s (goal: under 1 s)\n", best);
	for (i = 0; i < nmix; i++)
		free(mix[i].data);
	for (i = 0; i < ncorpus; i++)
		free(corpus[i].data);
	free(mix);
	free(corpus);
	free(big.data);
	triage_free(t);
	return 0;
}
