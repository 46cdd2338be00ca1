/*
 * The agent's root helper (agent run --user): it opens, read-only, only
 * the regular files it was started with and their first rotation, whatever
 * it is asked; its descriptors read the file; it ends with its agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_internal.h"
#include "hostev/hostev.h"

static void
test_broker_opens_only_its_sources(void **state)
{
	char dir[] = "/tmp/bw_broker_XXXXXX", src[128], rot[128], other[128], sub[128], buf[16];
	char *paths[1] = { src };
	struct broker b;
	struct bw_err err = { 0 };
	struct stat st;
	int fd, status = 0;
	ssize_t k;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof src, "%s/audit.log", dir);
	snprintf(rot, sizeof rot, "%s/audit.log.1", dir);
	snprintf(other, sizeof other, "%s/shadow", dir);
	snprintf(sub, sizeof sub, "%s/audit.log.1.1", dir);
	assert_int_equal(bw_file_write_atomic(src, "hello\n", 6, 0600, &err), 0);
	assert_int_equal(bw_file_write_atomic(rot, "older\n", 6, 0600, &err), 0);
	assert_int_equal(bw_file_write_atomic(other, "secret\n", 7, 0600, &err), 0);
	assert_int_equal(bw_file_write_atomic(sub, "x\n", 2, 0600, &err), 0);
	assert_int_equal(broker_start(paths, 1, NULL, &b, &err), 0);

	fd = broker_open(&b, src);
	assert_true(fd >= 0);
	k = read(fd, buf, sizeof buf);
	assert_int_equal(k, 6);
	assert_memory_equal(buf, "hello\n", 6);
	assert_int_equal(write(fd, "x", 1), -1);	/* read-only */
	close(fd);
	assert_int_equal(broker_stat(&b, src, &st), 0);
	assert_int_equal(st.st_size, 6);
	assert_true(S_ISREG(st.st_mode));
	fd = broker_open(&b, rot);	/* its first rotation */
	assert_true(fd >= 0);
	close(fd);

	/* anything else is refused, asked in any form */
	assert_int_equal(broker_open(&b, other), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(broker_stat(&b, other, &st), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(broker_open(&b, sub), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(broker_open(&b, "/etc/shadow"), -1);
	assert_int_equal(errno, EPERM);
	{
		char dotted[160];
		snprintf(dotted, sizeof dotted, "%s/../%s/audit.log", dir, strrchr(dir, '/') + 1);
		assert_int_equal(broker_open(&b, dotted), -1);	/* the same file, named otherwise */
		assert_int_equal(errno, EPERM);
	}
	/* an allowed name that is a link (to another file) or a directory is not opened */
	assert_int_equal(unlink(src), 0);
	assert_int_equal(symlink(other, src), 0);
	assert_int_equal(broker_open(&b, src), -1);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(unlink(src), 0);
	assert_int_equal(mkdir(src, 0700), 0);
	assert_int_equal(broker_open(&b, src), -1);
	assert_int_equal(broker_stat(&b, src, &st), 0);	/* (stat says what is there: follow checks it is a file) */
	assert_int_equal(rmdir(src), 0);
	assert_int_equal(broker_open(&b, src), -1);
	assert_int_equal(errno, ENOENT);

	/* the helper ends when its agent's end closes */
	{
		pid_t pid = b.pid;
		close(b.sock);
		b.sock = -1;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		b.pid = -1;
	}
	broker_stop(&b);
	unlink(rot);
	unlink(other);
	unlink(sub);
	rmdir(dir);
}

/* auditd events read both ways: each key once; the last DEDUP_GEN keys always remembered, memory bounded */
static void
test_dedup(void **state)
{
	struct dedup *d = NULL;
	struct bw_err err = { 0 };
	uint64_t i;

	(void)state;
	assert_int_equal(dedup_new(&d, &err), 0);
	assert_false(dedup_seen(d, 1000, 1));
	assert_true(dedup_seen(d, 1000, 1));
	assert_false(dedup_seen(d, 1001, 1));	/* same serial, another time: another event */
	assert_false(dedup_seen(d, 1000, 2));
	assert_false(dedup_seen(d, 5, 0));	/* serial 0 is never taken for a duplicate */
	assert_false(dedup_seen(d, 5, 0));
	for (i = 10; i < 10 + 5 * DEDUP_GEN; i++)
		assert_false(dedup_seen(d, (int64_t)i * 7, i));
	for (i = 10 + 4 * DEDUP_GEN; i < 10 + 5 * DEDUP_GEN; i++)
		assert_true(dedup_seen(d, (int64_t)i * 7, i));
	assert_false(dedup_seen(d, 1000, 1));	/* long gone: remembered anew */
	dedup_free(d);
}

/* Root records actions into a directory the agent's user owns: a FIFO or a link there is refused at once. */
static void
test_actions_file_refuses_fifo_and_links(void **state)
{
	char dir[] = "/tmp/bw_actions_XXXXXX", hostev[128], file[160], target[160], line[512];
	struct hostev_action a = { 1795845114000, "session.begin", "uid=1", "session 1", "success", "pid 1" };
	struct bw_err err = { 0 };
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(hostev, sizeof hostev, "%s/hostev", dir);
	snprintf(file, sizeof file, "%s/actions.log", hostev);
	snprintf(target, sizeof target, "%s/target", dir);
	assert_int_equal(agent_action_record(dir, &a, &err), 0);	/* creates hostev/ and the file */
	assert_non_null(f = fopen(file, "r"));
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	assert_non_null(strstr(line, "\"action\":\"session.begin\""));
	assert_int_equal(unlink(file), 0);
	assert_int_equal(mkfifo(file, 0600), 0);
	assert_int_equal(agent_action_record(dir, &a, &err), BW_EIO);	/* returns: no reader needed */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(bw_file_write_atomic(target, "keep\n", 5, 0600, &err), 0);
	assert_int_equal(symlink(target, file), 0);
	assert_int_equal(agent_action_record(dir, &a, &err), BW_EIO);
	assert_non_null(f = fopen(target, "r"));
	assert_non_null(fgets(line, sizeof line, f));
	fclose(f);
	assert_string_equal(line, "keep\n");	/* the link's target is untouched */
	unlink(file);
	unlink(target);
	rmdir(hostev);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broker_opens_only_its_sources),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_actions_file_refuses_fifo_and_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
