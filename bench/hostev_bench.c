/*
 * hostev_bench: the agent's reading of auditd's log on one core, beside a
 * plain line read of the same file in the same run.
 *
 *   hostev_bench DIR [EVENTS]
 *
 * Writes DIR/audit.log with EVENTS auditd events in a realistic mix (execs
 * of SYSCALL, EXECVE, CWD, two PATH, PROCTITLE and EOE records; file opens
 * of SYSCALL, CWD, PATH, PROCTITLE, EOE; user records without EOE), then
 * reads it three ways, each from the page cache:
 *   lines      read() in 64 KiB pieces, newlines counted (the baseline);
 *   grouped    the hostev reader: lines checked, parsed and grouped into
 *              events by libauparse, values decoded;
 *   batched    grouped, plus each event normalised and formatted into the
 *              JSON batches the agent spools (1,024 events each).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostev/hostev.h"

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
write_log(const char *path, unsigned events, unsigned long *lines)
{
	FILE *f = fopen(path, "w");
	unsigned i;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	*lines = 0;
	for (i = 1; i <= events; i++) {
		unsigned long t = 1795845114000UL + i / 4;
		unsigned sec = (unsigned)(t / 1000), ms = (unsigned)(t % 1000), pid = 2000 + i % 30000;
		switch (i % 10) {
		case 0: case 1: case 2: case 3: case 4:
			fprintf(f,
				"type=SYSCALL msg=audit(%u.%03u:%u): arch=c000003e syscall=59 success=yes exit=0 "
				"a0=55d0c4a8e2a0 a1=55d0c4a8e3c0 a2=55d0c4a8e3e8 a3=8 items=2 ppid=%u pid=%u auid=1000 "
				"uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 "
				"ses=3 comm=\"grep\" exe=\"/usr/bin/grep\" subj=unconfined key=\"bulwark-exec\"\n"
				"type=EXECVE msg=audit(%u.%03u:%u): argc=4 a0=\"grep\" a1=\"-r\" a2=\"TODO\" a3=\"src/\"\n"
				"type=CWD msg=audit(%u.%03u:%u): cwd=\"/home/alice/project\"\n"
				"type=PATH msg=audit(%u.%03u:%u): item=0 name=\"/usr/bin/grep\" inode=1311 dev=fe:00 "
				"mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 "
				"cap_fver=0 cap_frootid=0\n"
				"type=PATH msg=audit(%u.%03u:%u): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=332383 "
				"dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 "
				"cap_fe=0 cap_fver=0 cap_frootid=0\n"
				"type=PROCTITLE msg=audit(%u.%03u:%u): proctitle=67726570002D7200544F444F0073726332F\n"
				"type=EOE msg=audit(%u.%03u:%u): \n",
				sec, ms, i, pid - 1, pid, sec, ms, i, sec, ms, i, sec, ms, i, sec, ms, i, sec, ms, i, sec, ms, i);
			*lines += 7;
			break;
		case 5: case 6: case 7:
			fprintf(f,
				"type=SYSCALL msg=audit(%u.%03u:%u): arch=c000003e syscall=257 success=yes exit=3 "
				"a0=ffffff9c a1=7ffd5c1e2f10 a2=0 a3=0 items=1 ppid=%u pid=%u auid=1000 uid=1000 gid=1000 "
				"euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 "
				"comm=\"cat\" exe=\"/usr/bin/cat\" subj=unconfined key=\"bulwark-design\"\n"
				"type=CWD msg=audit(%u.%03u:%u): cwd=\"/srv/design\"\n"
				"type=PATH msg=audit(%u.%03u:%u): item=0 name=\"/srv/design/hull-%u.step\" inode=%u "
				"dev=fe:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 "
				"cap_fe=0 cap_fver=0 cap_frootid=0\n"
				"type=PROCTITLE msg=audit(%u.%03u:%u): proctitle=636174002F7372762F64657369676E\n"
				"type=EOE msg=audit(%u.%03u:%u): \n",
				sec, ms, i, pid - 1, pid, sec, ms, i, sec, ms, i, i % 5000, 40000 + i % 5000, sec, ms, i, sec,
				ms, i);
			*lines += 5;
			break;
		default:
			fprintf(f,
				"type=USER_START msg=audit(%u.%03u:%u): pid=%u uid=0 auid=1000 ses=3 subj=unconfined "
				"msg='op=PAM:session_open grantors=pam_selinux,pam_loginuid,pam_keyinit,pam_limits,"
				"pam_systemd,pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.7 "
				"addr=10.0.0.7 terminal=ssh res=success'\n",
				sec, ms, i, pid);
			*lines += 1;
			break;
		}
	}
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

struct run {
	bool batch;
	unsigned long events, bytes_out;
	struct hostev_batch b;
	size_t cap;
};

static void
flush(struct run *r)
{
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0, i;

	if (r->b.n == 0)
		return;
	r->b.seq++;
	if (hostev_batch_format(&r->b, &text, &len, &err) != 0) {
		fprintf(stderr, "format: %s\n", err.msg);
		exit(1);
	}
	r->bytes_out += len;
	free(text);
	for (i = 0; i < r->b.n; i++)
		hostev_event_clear(&r->b.events[i]);
	r->b.n = 0;
}

static void
on_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct run *r = ctx;
	struct bw_err err = { 0 };

	r->events++;
	if (!r->batch)
		return;
	if (hostev_audit_normalise(ev, &r->b.events[r->b.n], &err) != 0) {
		fprintf(stderr, "normalise: %s\n", err.msg);
		exit(1);
	}
	if (++r->b.n == 1024)
		flush(r);
}

static double
read_file(const char *path, struct hostev_audit_reader *rd, unsigned long *lines)
{
	static char buf[65536];
	struct bw_err err = { 0 };
	double t0 = now();
	int fd = open(path, O_RDONLY);
	ssize_t n;

	*lines = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (rd == NULL) {
			const char *p = buf, *end = buf + n;
			while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
				(*lines)++;
				p++;
			}
		} else if (hostev_audit_reader_feed(rd, buf, (size_t)n, &err) != 0) {
			fprintf(stderr, "feed: %s\n", err.msg);
			exit(1);
		}
	}
	if (rd != NULL)
		hostev_audit_reader_finish(rd, &err);
	close(fd);
	return now() - t0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	unsigned events = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000000;
	unsigned long lines = 0, counted;
	double t_lines, t_grouped, t_batched;
	int k;

	if (argc < 2) {
		fprintf(stderr, "usage: hostev_bench DIR [EVENTS]\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s/audit.log", argv[1]);
	write_log(path, events, &lines);
	read_file(path, NULL, &counted);	/* into the page cache */
	for (k = 0; k < 3; k++) {
		struct run g = { 0 }, b = { .batch = true };
		struct hostev_audit_reader *rd;
		struct bw_err err = { 0 };

		t_lines = read_file(path, NULL, &counted);
		if (hostev_audit_reader_new(on_event, NULL, &g, &rd, &err) != 0)
			return 1;
		t_grouped = read_file(path, rd, &counted);
		hostev_audit_reader_free(rd);
		b.b.events = calloc(1024, sizeof *b.b.events);
		memcpy(b.b.epoch, "0123456789abcdef0123456789abcdef", HOSTEV_EPOCH_HEX + 1);
		if (hostev_audit_reader_new(on_event, NULL, &b, &rd, &err) != 0)
			return 1;
		t_batched = read_file(path, rd, &counted);
		flush(&b);
		hostev_audit_reader_free(rd);
		free(b.b.events);
		if (g.events != events || b.events != events) {
			fprintf(stderr, "events: %lu and %lu of %u\n", g.events, b.events, events);
			return 1;
		}
		printf("run %d: %lu lines, %u events: plain read %.0f lines/s; grouped %.0f lines/s (%.0f events/s, "
		       "%.1f%% of plain); batched %.0f lines/s (%.0f events/s, %.1f MB of batches)\n",
		       k + 1, lines, events, lines / t_lines, lines / t_grouped, events / t_grouped,
		       100.0 * t_lines / t_grouped, lines / t_batched, events / t_batched, b.bytes_out / 1e6);
	}
	unlink(path);
	return 0;
}
