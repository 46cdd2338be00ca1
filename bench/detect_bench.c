/*
 * detect_bench: events per second through the Sigma engine on one core,
 * beside the raw JSON parse rate of the same events in the same run.
 *
 *   detect_bench RULES_DIR [EVENTS]
 *
 * The event mix: auditd records (EXECVE, SYSCALL, PATH, USER_LOGIN),
 * process_creation events and bulwark audit events, as JSON lines with
 * realistic field sets and values; a few in a hundred match some rule.
 * Each event is parsed (jansson), flattened and tested against the rules
 * of its log source, as the server will do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "detect/detect.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct sample {
	char *json;
	size_t len;
	enum detect_source src;
};

static const char *const binaries[] = { "/usr/bin/ls", "/usr/bin/grep", "/usr/bin/python3", "/usr/sbin/sshd",
					"/usr/bin/bash", "/usr/bin/cat", "/usr/bin/make", "/usr/bin/gcc",
					"/usr/bin/git", "/usr/bin/curl", "/usr/bin/nc", "/tmp/.x/run" };
static const char *const args[] = { "-la /home/alice", "-r TODO src/", "build.py --release", "-D -R",
				    "-c 'make -j2'", "/etc/os-release", "-C build check", "-O2 -c x.c",
				    "pull --rebase", "-fsSL https://example.com/i.sh", "-e /bin/sh 10.0.0.7 4444",
				    "--daemon" };

static void
make_sample(struct sample *s, unsigned i)
{
	char buf[2048];
	unsigned k = (i * 2654435761u) >> 7, b = k % 12, kind = i % 10;
	int n;

	if (kind < 4) {
		s->src = DETECT_SRC_AUDITD;
		n = snprintf(buf, sizeof buf,
			     "{\"type\":\"EXECVE\",\"msg\":\"audit(1764300000.%03u:%u)\",\"argc\":\"3\",\"a0\":\"%s\","
			     "\"a1\":\"%.*s\",\"a2\":\"%s\",\"node\":\"build-07\",\"auid\":\"1000\",\"ses\":\"%u\"}",
			     i % 1000, 100000 + i, strrchr(binaries[b], '/') + 1, 8, args[b], "x", i % 97);
	} else if (kind < 6) {
		s->src = DETECT_SRC_AUDITD;
		n = snprintf(buf, sizeof buf,
			     "{\"type\":\"SYSCALL\",\"msg\":\"audit(1764300000.%03u:%u)\",\"arch\":\"c000003e\","
			     "\"syscall\":\"59\",\"success\":\"yes\",\"exit\":\"0\",\"a0\":\"55d1c0\",\"ppid\":\"%u\","
			     "\"pid\":\"%u\",\"auid\":\"1000\",\"uid\":\"1000\",\"euid\":\"1000\",\"tty\":\"pts0\","
			     "\"ses\":\"%u\",\"comm\":\"%s\",\"exe\":\"%s\",\"key\":\"%s\"}",
			     i % 1000, 100000 + i, 2000 + i % 300, 3000 + i, i % 97, strrchr(binaries[b], '/') + 1,
			     binaries[b], i % 50 == 0 ? "susp_activity" : "exec");
	} else if (kind < 8) {
		s->src = DETECT_SRC_PROCESS_CREATION;
		n = snprintf(buf, sizeof buf,
			     "{\"Image\":\"%s\",\"CommandLine\":\"%s %s\",\"ParentImage\":\"%s\","
			     "\"ParentCommandLine\":\"bash\",\"User\":\"alice\",\"CurrentDirectory\":\"/home/alice/src\","
			     "\"ProcessId\":\"%u\",\"ParentProcessId\":\"%u\",\"LogonId\":\"%u\"}",
			     binaries[b], strrchr(binaries[b], '/') + 1, args[b], binaries[(b + 4) % 12], 3000 + i,
			     2000 + i % 300, i % 97);
	} else if (kind < 9) {
		s->src = DETECT_SRC_AUDITD;
		n = snprintf(buf, sizeof buf,
			     "{\"type\":\"PATH\",\"msg\":\"audit(1764300000.%03u:%u)\",\"item\":\"0\",\"name\":\"%s\","
			     "\"inode\":\"%u\",\"dev\":\"fd:01\",\"mode\":\"0100755\",\"ouid\":\"0\",\"ogid\":\"0\","
			     "\"nametype\":\"NORMAL\"}",
			     i % 1000, 100000 + i, binaries[b], 400000 + i);
	} else {
		s->src = DETECT_SRC_BULWARK;
		n = snprintf(buf, sizeof buf,
			     "{\"action\":\"%s\",\"actor\":\"alice\",\"details\":{\"reason\":\"bad code\"},"
			     "\"request_id\":\"9f2c61d0a4b3e857\",\"result\":\"%s\",\"source\":\"10.0.%u.%u\","
			     "\"target\":\"user:alice\",\"time\":\"2026-11-27T10:00:00.000Z\"}",
			     i % 3 ? "auth.login" : "access.request", i % 7 ? "ok" : "denied", (i >> 8) % 256, i % 256);
	}
	s->len = (size_t)n;
	s->json = strdup(buf);
}

static void
count_match(void *ctx, const struct detect_rule *r)
{
	(void)r;
	(*(size_t *)ctx)++;
}

/* Resident memory of this process, in KiB (/proc/self/statm), or 0. */
static long
rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * 4;
}

static void
count_corr(void *ctx, const struct detect_corr_match *m)
{
	(void)m;
	(*(size_t *)ctx)++;
}

/*
 * Correlation memory over 10 million matches: wrong one-time codes for
 * ever new accounts (the shipped event_count correlation, grouped by
 * target), with the server's limits (65,536 groups, 64 MiB): state and
 * resident memory stay flat once the limit is reached.
 */
static void
corr_memory(const struct detect_ruleset *rs)
{
	const struct detect_rule *otp = NULL;
	struct detect_correlator *c = NULL;
	struct bw_err err = { 0 };
	struct detect_corr_stats st;
	size_t i, fired = 0;
	char target[32];
	double t = now();

	for (i = 0; i < detect_ruleset_count(rs); i++)
		if (strcmp(detect_rule_title(detect_ruleset_rule(rs, i)),
			   "A sign-in with the right password and a wrong one-time code") == 0)
			otp = detect_ruleset_rule(rs, i);
	if (otp == NULL || detect_correlator_new(rs, 65536, (size_t)64 << 20, &c, &err) != 0) {
		printf("correlation memory: shipped OTP rule not found\n");
		return;
	}
	printf("correlation memory (limits 65,536 groups, 64 MiB), 10,000,000 matches over 3,000,000 accounts:\n");
	for (i = 1; i <= 10000000; i++) {
		struct detect_field f[1];
		struct detect_event ev = { f, 1, NULL, 0 };
		int tl = snprintf(target, sizeof target, "user:%zu", (i * 7919) % 3000000);
		f[0] = (struct detect_field){ "target", target, (size_t)tl };
		detect_correlator_feed(c, otp, &ev, (int64_t)i, count_corr, &fired);
		if (i == 1000000 || i == 2500000 || i == 5000000 || i == 10000000) {
			detect_correlator_stats(c, &st);
			printf("  after %8zu: %zu groups, %zu KiB of state, %llu evicted, %zu fired, process RSS %ld KiB\n",
			       i, st.groups, st.bytes / 1024, (unsigned long long)st.evicted, fired, rss_kib());
		}
	}
	printf("  %.0f matches/s through the correlator\n", 10000000.0 / (now() - t));
	detect_correlator_free(c);
}

int
main(int argc, char **argv)
{
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct detect_json_event *je = NULL;
	struct bw_err err = { 0 };
	size_t n = 200000, i, matches = 0, round;
	struct sample *s;
	double t, parse_rate = 0, engine_rate = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: detect_bench RULES_DIR [EVENTS]\n");
		return 2;
	}
	if (argc > 2)
		n = strtoul(argv[2], NULL, 10);
	if (detect_ruleset_load_with_builtin(argv[1], &rs, &rep, &err) != 0 || detect_json_event_new(&je, &err) != 0) {
		fprintf(stderr, "detect_bench: %s\n", err.msg);
		return 1;
	}
	if ((s = calloc(n, sizeof *s)) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		make_sample(&s[i], (unsigned)i);
	{
		static const enum detect_source srcs[] = { DETECT_SRC_AUDITD, DETECT_SRC_PROCESS_CREATION,
							   DETECT_SRC_BULWARK };
		size_t si, ix, al;
		for (si = 0; si < 3; si++) {
			detect_ruleset_prefilter_stats(rs, srcs[si], &ix, &al);
			printf("%s: %zu rules indexed by a literal, %zu tried on every event\n",
			       detect_source_name(srcs[si]), ix, al);
		}
	}
	printf("%zu rule files loaded, bulwark's own and SigmaHQ's (%zu refused, %zu can never fire), %zu rules, %zu "
	       "events\n",
	       rep.loaded, rep.refused, rep.never_fire, detect_ruleset_count(rs), n);
	/* Three rounds each, best kept: the baseline and the engine alternate. */
	for (round = 0; round < 3; round++) {
		t = now();
		for (i = 0; i < n; i++) {
			json_t *j = json_loadb(s[i].json, s[i].len, JSON_REJECT_DUPLICATES, NULL);
			if (j == NULL)
				return 1;
			json_decref(j);
		}
		t = now() - t;
		if (n / t > parse_rate)
			parse_rate = (double)n / t;
		matches = 0;
		t = now();
		for (i = 0; i < n; i++) {
			if (detect_json_event_parse(je, s[i].json, s[i].len, &err) != 0)
				return 1;
			detect_ruleset_match(rs, s[i].src, detect_json_event_get(je), count_match, &matches);
		}
		t = now() - t;
		if (n / t > engine_rate)
			engine_rate = (double)n / t;
	}
	printf("baseline: JSON parse (jansson) of the same events: %.0f events/s\n", parse_rate);
	printf("engine: parse + flatten + match against the rules of each event's log source: %.0f events/s "
	       "(%.0f%% of the parse rate), %zu matches\n",
	       engine_rate, 100.0 * engine_rate / parse_rate, matches);
	corr_memory(rs);
	for (i = 0; i < n; i++)
		free(s[i].json);
	free(s);
	detect_json_event_free(je);
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
	return 0;
}
