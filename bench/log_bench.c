/*
 * log_bench: durable appends of 200-byte entries through the library, next
 * to the raw baseline measured in the same run on the same disk: writing
 * the same bytes (2-byte prefix + 200 bytes per entry) and one fdatasync
 * per batch, for the same batch sizes. "Durable" is acknowledged: sequenced
 * into the journal (integration every 250 ms in the same thread); the last
 * column commits tiles and a checkpoint per batch instead.
 *
 *   log_bench DIR [ENTRIES] [--rss-run N] [--small-commits N]
 *
 * --rss-run N appends N entries in batches of 65536 and reports peak RSS.
 * --recovery N sequences N entries without integrating them (a crash before
 * integration), then times the open that replays the journal and integrates.
 * --small-commits N measures small commits (1, 4, 16 entries each, as a
 * server that records one event at a time makes them): the bytes the
 * process hands to write() per entry (/proc/self/io wchar) next to the raw
 * baseline's 202, i.e. the write amplification.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tlog/tlog.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
entry_for(uint64_t i, uint8_t e[200])
{
	memset(e, 'a' + (int)(i % 26), 200);
	memcpy(e, &i, sizeof i);
}

static double
raw_baseline(const char *dir, uint64_t total, uint64_t batch)
{
	char path[4096];
	uint8_t *buf;
	uint64_t done = 0;
	double t;
	int fd;

	snprintf(path, sizeof path, "%s/raw.dat", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    (buf = malloc(batch * 202)) == NULL)
		exit(1);
	memset(buf, 'x', batch * 202);
	t = now();
	while (done < total) {
		if (bw_write_all(fd, buf, batch * 202) != 0 || fdatasync(fd) != 0)
			exit(1);
		done += batch;
	}
	t = now() - t;
	close(fd);
	unlink(path);
	free(buf);
	return (double)done / t;
}

/* Bytes this process has passed to write() so far (/proc/self/io "wchar"). */
static uint64_t
wchar(void)
{
	char line[128];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/io", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "wchar: %llu", &v) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return v;
}

/*
 * Appends total entries, acknowledging each batch: with sequence, one journal
 * write + fdatasync per batch and integration (tiles, checkpoint) every
 * 250 ms, as the server and `bulwark log append` do; without, a full commit
 * (tiles + checkpoint) per batch, as before the journal.
 */
/* Acknowledgement -> checkpoint latencies (seconds) of the last sequenced run, one per group. */
struct latencies {
	double *v;
	size_t n, cap;
};

static void
lat_add(struct latencies *l, double x)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		if ((l->v = realloc(l->v, l->cap * sizeof *l->v)) == NULL)
			exit(1);
	}
	l->v[l->n++] = x;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
median3(const double v[3])
{
	double a = v[0], b = v[1], c = v[2];

	return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

static struct latencies lat;	/* bench program state (main's) */
static unsigned run_no;		/* numbers each run's log directory */
static double caught_up_rate;	/* the last run's entries / time until every entry was integrated */

/*
 * sequence: appends acknowledged by the journal with integration on its own
 * thread (tlog_integrator, the policy of `bulwark log append`); otherwise
 * sequence + integrate per batch on one thread (tlog_store_commit).
 */
static double
store_run_mode(const char *dir, uint64_t total, uint64_t batch, bool sequence)
{
	static const struct tlog_integrator_policy policy = {
		.interval_ms = 250, .max_entries = 1u << 20, .max_bytes = (uint64_t)8 << 20,
		.limit_bytes = (uint64_t)32 << 20,
	};
	char path[4096];
	struct tlog_store *s = NULL;
	struct tlog_integrator *it = NULL;
	struct bw_err err = { 0 };
	uint8_t e[200];
	uint64_t i, idx;
	double t;
	/* Groups acknowledged and not yet seen covered by a checkpoint: (end index, time). */
	static uint64_t ack_upto[1 << 16];
	static double ack_at[1 << 16];
	size_t head = 0, tail = 0;

	/*
	 * A new directory per run; none is deleted here (bench.sh removes them all
	 * at the very end): ext4 without a journal allocates inodes several times
	 * slower for minutes after a mass deletion (recently_deleted), which a
	 * real log never sees.
	 */
	snprintf(path, sizeof path, "%s/log-%u", dir, run_no++);
	if (tlog_store_create(path, "bulwark.bench/log", NULL, &err) != 0 ||
	    tlog_store_open(path, &s, &err) != 0 ||
	    (sequence && tlog_integrator_start(s, &policy, &it, &err) != 0)) {
		fprintf(stderr, "log_bench: %s\n", err.msg);
		exit(1);
	}
	lat.n = 0;
	double t0 = t = now();
	for (i = 0; i < total; i++) {
		entry_for(i, e);
		if (tlog_store_append(s, e, sizeof e, &idx, &err) != 0) {
			fprintf(stderr, "log_bench: %s\n", err.msg);
			exit(1);
		}
		if ((i + 1) % batch != 0 && i + 1 < total)
			continue;
		if (!sequence) {
			if (tlog_store_commit(s, &err) != 0) {
				fprintf(stderr, "log_bench: %s\n", err.msg);
				exit(1);
			}
			continue;
		}
		if (tlog_integrator_throttle(it, &err) != 0 || tlog_store_sequence(s, &err) != 0) {
			fprintf(stderr, "log_bench: %s\n", err.msg);
			exit(1);
		}
		tlog_integrator_kick(it);
		double at = now();
		uint64_t size = tlog_store_size(s);
		while (head != tail && ack_upto[tail] <= size) {
			lat_add(&lat, at - ack_at[tail]);
			tail = (tail + 1) % (1 << 16);
		}
		if ((head + 1) % (1 << 16) != tail) {
			ack_upto[head] = i + 1;
			ack_at[head] = at;
			head = (head + 1) % (1 << 16);
		}
	}
	t = now() - t;	/* every append acknowledged */
	if (sequence) {
		/* The rest is covered once the integrator has caught up. */
		if (tlog_integrator_wait(it, total, &err) != 0)
			exit(1);
		double at = now();
		for (; tail != head; tail = (tail + 1) % (1 << 16))
			lat_add(&lat, at - ack_at[tail]);
		if (tlog_integrator_stop(it, &err) != 0)
			exit(1);
	}
	caught_up_rate = (double)total / (now() - t0);
	if (tlog_store_size(s) != total) {
		fprintf(stderr, "log_bench: %llu of %llu entries integrated\n", (unsigned long long)tlog_store_size(s),
			(unsigned long long)total);
		exit(1);
	}
	tlog_store_close(s);
	return (double)total / t;
}

static double
store_run(const char *dir, uint64_t total, uint64_t batch)
{
	return store_run_mode(dir, total, batch, true);
}

static void
recovery_run(const char *dir, uint64_t total)
{
	char path[4096];
	struct tlog_store *s = NULL;
	struct bw_err err = { 0 };
	uint8_t e[200];
	uint64_t i, idx;
	long long jbytes = 0;
	double t;

	snprintf(path, sizeof path, "%s/log-%u", dir, run_no++);
	if (tlog_store_create(path, "bulwark.bench/log", NULL, &err) != 0 || tlog_store_open(path, &s, &err) != 0)
		exit(1);
	for (i = 0; i < total; i++) {
		entry_for(i, e);
		if (tlog_store_append(s, e, sizeof e, &idx, &err) != 0 ||
		    ((i + 1) % 65536 == 0 && tlog_store_sequence(s, &err) != 0))
			exit(1);
	}
	if (tlog_store_sequence(s, &err) != 0)
		exit(1);
	tlog_store_close(s);	/* no integration: what a crash leaves */
	{
		/* The journal's segments. */
		char cmd[4200];
		FILE *du;
		snprintf(cmd, sizeof cmd, "cat '%s'/journal-* | wc -c", path);
		if ((du = popen(cmd, "r")) == NULL || fscanf(du, "%lld", &jbytes) != 1)
			exit(1);
		pclose(du);
	}
	t = now();
	if (tlog_store_open(path, &s, &err) != 0 || tlog_store_size(s) != total) {
		fprintf(stderr, "log_bench: recovery: %s\n", err.msg);
		exit(1);
	}
	t = now() - t;
	tlog_store_close(s);
	printf("recovery of a %.0f MiB journal (%llu entries): %.2f s (%.0f entries/s), every entry integrated\n",
	       (double)jbytes / 1048576.0, (unsigned long long)total, t, (double)total / t);
}

int
main(int argc, char **argv)
{
	static const uint64_t batches[] = { 256, 1024, 4096, 16384, 65536 };
	uint64_t total = 1000000, rss_n = 0, small_n = 0, recovery_n = 0;
	size_t k;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: log_bench DIR [ENTRIES] [--rss-run N] [--small-commits N] [--recovery N]\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--rss-run") == 0 && i + 1 < argc)
			rss_n = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--small-commits") == 0 && i + 1 < argc)
			small_n = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--recovery") == 0 && i + 1 < argc)
			recovery_n = strtoull(argv[++i], NULL, 10);
		else
			total = strtoull(argv[i], NULL, 10);
	}
	if (bw_crypto_init(NULL) != 0)
		return 1;
	if (rss_n > 0) {
		struct rusage ru;
		double rate = store_run(argv[1], rss_n, 65536);
		getrusage(RUSAGE_SELF, &ru);
		printf("%llu durable appends (batch 65536): %.0f appends/s, peak RSS %.1f MiB\n",
		       (unsigned long long)rss_n, rate, (double)ru.ru_maxrss / 1024.0);
		return 0;
	}
	if (recovery_n > 0) {
		recovery_run(argv[1], recovery_n);
		return 0;
	}
	if (small_n > 0) {
		static const uint64_t small[] = { 1, 4, 16 };
		printf("%-8s %14s %16s %16s %14s\n", "commit", "raw e/s", "log e/s", "log bytes/entry", "amplification");
		for (k = 0; k < sizeof small / sizeof small[0]; k++) {
			double raw = raw_baseline(argv[1], small_n, small[k]), log;
			uint64_t w0 = wchar();
			log = store_run(argv[1], small_n, small[k]);
			double per = (double)(wchar() - w0) / (double)small_n;
			printf("%-8llu %14.0f %16.0f %16.0f %13.0fx\n", (unsigned long long)small[k], raw, log, per, per / 202.0);
		}
		return 0;
	}
	/* Each pair (raw, log) runs three times, alternating; the medians are compared (the disk is noisy). */
	printf("%-8s %18s %22s %8s %22s   %s\n", "batch", "raw write+fdatasync", "durable log appends", "ratio",
	       "all integrated", "ack->checkpoint");
	for (k = 0; k < sizeof batches / sizeof batches[0]; k++) {
		uint64_t n = total < batches[k] * 8 ? batches[k] * 8 : total;
		double raw[3], log[3], caught[3], med[3], p99[3];
		int round;
		for (round = 0; round < 3; round++) {
			raw[round] = raw_baseline(argv[1], n, batches[k]);
			log[round] = store_run(argv[1], n, batches[k]);
			caught[round] = caught_up_rate;
			qsort(lat.v, lat.n, sizeof *lat.v, cmp_double);
			med[round] = lat.n ? lat.v[lat.n / 2] : 0;
			p99[round] = lat.n ? lat.v[lat.n * 99 / 100] : 0;
		}
		printf("%-8llu %14.0f e/s %18.0f e/s %7.0f%% %18.0f e/s   median %.0f ms, p99 %.0f ms"
		       "   (raw %.0f/%.0f/%.0f, log %.0f/%.0f/%.0f)\n",
		       (unsigned long long)batches[k], median3(raw), median3(log), 100.0 * median3(log) / median3(raw),
		       median3(caught), median3(med) * 1e3, median3(p99) * 1e3, raw[0], raw[1], raw[2], log[0], log[1],
		       log[2]);
		fflush(stdout);
	}
	free(lat.v);
	return 0;
}
