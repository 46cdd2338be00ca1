/*
 * Unit tests for hostev (auditd records grouped into events with
 * libauparse, values decoded, hostile lines refused) and for detect's
 * views of those events (process_creation, file_event,
 * network_connection, each record as itself).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "detect/detect.h"
#include "hostev/hostev.h"

/* What the reader delivered, flattened to text: one line per record, "SERIAL TYPE name=value|...". */
struct seen {
	char text[65536];
	size_t len;
	int events;
	int bad;
	char bad_text[4096];
	size_t bad_len;
};

/* snprintf into buf at *len, never past its end. */
static void
put_text(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 ? *len : *len + (size_t)n >= cap ? cap - 1 : *len + (size_t)n;
}

static void
on_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct seen *s = ctx;
	size_t i, k;

	s->events++;
	for (i = 0; i < ev->nrecords; i++) {
		const struct hostev_record *r = &ev->records[i];
		put_text(s->text, sizeof s->text, &s->len, "%llu %s%s%s",
					   (unsigned long long)ev->serial, ev->node, ev->node[0] ? " " : "", r->type);
		for (k = 0; k < r->nfields; k++)
			put_text(s->text, sizeof s->text, &s->len, " %s=%s", r->fields[k].name,
						   r->fields[k].value);
		put_text(s->text, sizeof s->text, &s->len, "\n");
	}
}

static void
on_bad(void *ctx, uint64_t line, const char *reason)
{
	struct seen *s = ctx;

	s->bad++;
	put_text(s->bad_text, sizeof s->bad_text, &s->bad_len, "%llu: %s\n",
				       (unsigned long long)line, reason);
}

/* Reads text in pieces of step bytes (0: all at once). */
static void
read_all(const char *text, size_t step, struct seen *s)
{
	struct hostev_audit_reader *r = NULL;
	struct bw_err err = { 0 };
	size_t len = strlen(text), off = 0;

	memset(s, 0, sizeof *s);
	assert_int_equal(hostev_audit_reader_new(on_event, on_bad, s, &r, &err), 0);
	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step;
		assert_int_equal(hostev_audit_reader_feed(r, text + off, n, &err), 0);
		off += n;
	}
	assert_int_equal(hostev_audit_reader_finish(r, &err), 0);
	assert_int_equal(hostev_audit_reader_refused(r), (uint64_t)s->bad);
	hostev_audit_reader_free(r);
}

static const char exec_event[] =
    "type=SYSCALL msg=audit(1700000000.123:4242): arch=c000003e syscall=59 success=yes exit=0 a0=55d5c0 "
    "items=1 ppid=900 pid=1234 auid=1000 uid=1000 gid=1000 euid=0 tty=pts0 ses=3 comm=\"curl\" "
    "exe=\"/usr/bin/curl\" key=\"exec\"\n"
    "type=EXECVE msg=audit(1700000000.123:4242): argc=4 a0=\"curl\" a1=\"-o\" a2=2F746D702F7820792022 "
    "a3_len=8 a3[0]=41424344 a3[1]=45464748\n"
    "type=CWD msg=audit(1700000000.123:4242): cwd=\"/home/alice\"\n"
    "type=PATH msg=audit(1700000000.123:4242): item=0 name=\"/usr/bin/curl\" inode=12 nametype=NORMAL\n"
    "type=PROCTITLE msg=audit(1700000000.123:4242): proctitle=6375726C002D6F\n"
    "type=EOE msg=audit(1700000000.123:4242): \n";

static void
test_grouping_and_decoding(void **state)
{
	static struct seen s;

	(void)state;
	read_all(exec_event, 0, &s);
	assert_int_equal(s.events, 1);
	assert_int_equal(s.bad, 0);
	/* hex and quoted values decoded; a3[0], a3[1] joined; a3_len dropped; SYSCALL/ARCH interpreted */
	assert_non_null(strstr(s.text, "4242 EXECVE argc=4 a0=curl a1=-o a2=/tmp/x y \" a3=ABCDEFGH\n"));
	assert_non_null(strstr(s.text, "4242 CWD cwd=/home/alice\n"));
	assert_non_null(strstr(s.text, " exe=/usr/bin/curl key=exec SYSCALL=execve ARCH=x86_64\n"));
	assert_non_null(strstr(s.text, "4242 PROCTITLE proctitle=curl -o\n"));
	/* ids stay numbers: no user name is looked up on the reading machine */
	assert_non_null(strstr(s.text, " uid=1000 "));
	assert_null(strstr(s.text, " UID="));
	assert_null(strstr(s.text, " AUID="));
}

static void
test_malformed_values_kept_as_written(void **state)
{
	static struct seen s;
	static const char text[] =
	    "type=PROCTITLE msg=audit(1700000000.000:1): proctitle=00000.123:4242):\n"
	    "type=EXECVE msg=audit(1700000000.000:2): argc=2 a0=ABC a1=\"x\n"
	    "type=SOCKADDR msg=audit(1700000000.000:3): saddr=0G\n";

	(void)state;
	/* libauparse's decoders read past their buffers on such shapes: they are never given them */
	read_all(text, 0, &s);
	assert_int_equal(s.events, 3);
	assert_non_null(strstr(s.text, "1 PROCTITLE proctitle=00000.123:4242\n"));
	assert_non_null(strstr(s.text, "2 EXECVE argc=2 a0=ABC a1=\"x\n"));
	assert_non_null(strstr(s.text, "3 SOCKADDR saddr=0G\n"));
}

static void
test_pieces_of_any_size(void **state)
{
	static struct seen whole, bytes, odd;

	(void)state;
	read_all(exec_event, 0, &whole);
	read_all(exec_event, 1, &bytes);
	read_all(exec_event, 7, &odd);
	assert_string_equal(whole.text, bytes.text);
	assert_string_equal(whole.text, odd.text);
}

static void
test_enriched_and_single_record_events(void **state)
{
	static struct seen s;
	static const char text[] =
	    "node=web1 type=SYSCALL msg=audit(1700000001.000:7): arch=c000003e syscall=42 success=yes exit=0 items=0 "
	    "ppid=1 pid=99 auid=1000 uid=1000 comm=\"nc\" exe=\"/usr/bin/nc\" key=(null)\x1d"
	    "ARCH=x86_64 SYSCALL=connect AUID=\"alice\" UID=\"alice\"\n"
	    "node=web1 type=SOCKADDR msg=audit(1700000001.000:7): saddr=02001A0A5DB8D822000000000000000000\n"
	    "node=web1 type=DAEMON_END msg=audit(1700000002.000:8): op=terminate auid=0 pid=1 res=success\n"
	    "type=USER_AUTH msg=audit(1700000003.000:9): pid=1 uid=0 auid=4294967295 ses=4294967295 "
	    "msg='op=PAM:authentication acct=\"bob\" exe=\"/usr/sbin/sshd\" addr=10.0.0.1 terminal=ssh res=failed'\n";

	(void)state;
	read_all(text, 0, &s);
	assert_int_equal(s.events, 3);
	/* the record's own interpretations become upper-case fields */
	assert_non_null(strstr(s.text, "7 web1 SYSCALL "));
	assert_non_null(strstr(s.text, " AUID=alice UID=alice"));
	assert_non_null(strstr(s.text, "SADDR={ saddr_fam=inet laddr=93.184.216.34 lport=6666 } saddr_fam=inet "
				       "laddr=93.184.216.34 lport=6666\n"));
	assert_non_null(strstr(s.text, "8 web1 DAEMON_END op=terminate"));
	assert_non_null(strstr(s.text, "9 USER_AUTH pid=1 uid=0 auid=4294967295 ses=4294967295 op=PAM:authentication "
				       "acct=bob exe=/usr/sbin/sshd addr=10.0.0.1 terminal=ssh res=failed\n"));
}

static void
test_hostile_lines_refused(void **state)
{
	static struct seen s;
	static char text[40000];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(text + n, sizeof text - n, "garbage\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "type=lower msg=audit(1.000:1): a=b\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "type=SYSCALL msg=audit(1.00:1): a=b\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "type=SYSCALL msg=audit(1.000:x): a=b\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "type=SYSCALL msg=audit(1.000:5): a=b\x01\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "node= type=SYSCALL msg=audit(1.000:5): a=b\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "type=CWD msg=audit(1.000:2): cwd=/ cwd=0\n");
	n += (size_t)snprintf(text + n, sizeof text - n, "type=SYSCALL msg=audit(1.000:5): ");
	memset(text + n, 'x', 17000);
	n += 17000;
	n += (size_t)snprintf(text + n, sizeof text - n, "\ntype=DAEMON_START msg=audit(1700000000.000:77): op=start\n");
	read_all(text, 0, &s);
	assert_int_equal(s.bad, 8);
	assert_non_null(strstr(s.bad_text, "1: no 'type=' at the start of the record\n"));
	assert_non_null(strstr(s.bad_text, "2: the record type is not an auditd type name"));
	assert_non_null(strstr(s.bad_text, "3: the record time is not SECONDS.MILLIS\n"));
	assert_non_null(strstr(s.bad_text, "4: the record serial is not a number"));
	assert_non_null(strstr(s.bad_text, "5: a control character in the record\n"));
	assert_non_null(strstr(s.bad_text, "6: node= without a name and a space\n"));
	assert_non_null(strstr(s.bad_text, "7: a field name repeats in the record\n"));
	assert_non_null(strstr(s.bad_text, "8: the record is longer than 16384 bytes\n"));
	/* the good line after them still reads */
	assert_int_equal(s.events, 1);
	assert_non_null(strstr(s.text, "77 DAEMON_START op=start\n"));
}

static void
test_open_events_bounded(void **state)
{
	static struct seen s;
	struct bw_buf b = { 0 };
	unsigned i;

	(void)state;
	/* records of many events that never end: delivered once HOSTEV_AUDIT_OPEN_MAX wait, not held forever */
	for (i = 0; i < 3 * HOSTEV_AUDIT_OPEN_MAX; i++)
		assert_int_equal(bw_buf_printf(&b, "type=SYSCALL msg=audit(1700000000.000:%u): syscall=2 pid=%u\n", i + 1,
					       i),
				 0);
	read_all((const char *)b.data, 4096, &s);
	assert_int_equal(s.events, 3 * HOSTEV_AUDIT_OPEN_MAX);
	bw_buf_free(&b);
}

/* ---- views ---- */

struct views {
	char text[16384];
	size_t len;
};

static void
on_view(void *ctx, enum detect_source src, const struct detect_event *doc)
{
	struct views *v = ctx;
	size_t i;

	put_text(v->text, sizeof v->text, &v->len, "%s:", detect_source_name(src));
	for (i = 0; i < doc->nfields; i++)
		put_text(v->text, sizeof v->text, &v->len, " %s=%.*s", doc->fields[i].name,
					   (int)doc->fields[i].len, doc->fields[i].value);
	put_text(v->text, sizeof v->text, &v->len, "\n");
}

struct view_run {
	struct detect_host_mapper *m;
	struct views *v;
};

static void
view_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct view_run *vr = ctx;
	struct bw_err err = { 0 };

	assert_int_equal(detect_host_views(vr->m, ev, on_view, vr->v, &err), 0);
}

static void
views_of(const char *text, struct views *v)
{
	struct hostev_audit_reader *r = NULL;
	struct view_run vr = { NULL, v };
	struct bw_err err = { 0 };

	memset(v, 0, sizeof *v);
	assert_int_equal(detect_host_mapper_new(&vr.m, &err), 0);
	assert_int_equal(hostev_audit_reader_new(view_event, NULL, &vr, &r, &err), 0);
	assert_int_equal(hostev_audit_reader_feed(r, text, strlen(text), &err), 0);
	assert_int_equal(hostev_audit_reader_finish(r, &err), 0);
	hostev_audit_reader_free(r);
	detect_host_mapper_free(vr.m);
}

static void
test_views(void **state)
{
	static struct views v;
	static const char text[] =
	    /* the shell (pid 900) exec'd first: the parent of the curl below */
	    "type=SYSCALL msg=audit(1699999999.000:4000): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=900 "
	    "auid=1000 uid=1000 exe=\"/usr/bin/bash\"\n"
	    "type=EXECVE msg=audit(1699999999.000:4000): argc=2 a0=\"bash\" a1=\"-i\"\n"
	    "type=EOE msg=audit(1699999999.000:4000): \n"
	    "type=SYSCALL msg=audit(1700000000.100:4241): arch=c000003e syscall=59 success=no exit=-2 ppid=900 pid=1233 "
	    "auid=1000 uid=1000 exe=\"/usr/bin/missing\"\n"
	    "type=EXECVE msg=audit(1700000000.100:4241): argc=1 a0=\"missing\"\n"
	    "type=EOE msg=audit(1700000000.100:4241): \n"
	    /* a file created by a relative name */
	    "type=SYSCALL msg=audit(1700000001.000:5000): arch=c000003e syscall=257 success=yes exit=3 ppid=900 "
	    "pid=1300 auid=1000 uid=1000 exe=\"/usr/bin/wget\"\n"
	    "type=CWD msg=audit(1700000001.000:5000): cwd=\"/tmp\"\n"
	    "type=PATH msg=audit(1700000001.000:5000): item=0 name=\"/tmp/\" nametype=PARENT\n"
	    "type=PATH msg=audit(1700000001.000:5000): item=1 name=\"drop.sh\" nametype=CREATE\n"
	    "type=EOE msg=audit(1700000001.000:5000): \n"
	    /* a refused connect is no connection; a netlink one is none either */
	    "type=SYSCALL msg=audit(1700000002.000:6000): arch=c000003e syscall=42 success=no exit=-111 ppid=900 pid=1301 "
	    "exe=\"/usr/bin/nc\"\n"
	    "type=SOCKADDR msg=audit(1700000002.000:6000): saddr=0200115C7F0000010000000000000000\n"
	    "type=EOE msg=audit(1700000002.000:6000): \n"
	    "type=SYSCALL msg=audit(1700000003.000:6001): arch=c000003e syscall=42 success=yes exit=0 ppid=900 pid=1301 "
	    "exe=\"/usr/bin/nc\"\n"
	    "type=SOCKADDR msg=audit(1700000003.000:6001): saddr=0200115C7F0000010000000000000000\n"
	    "type=EOE msg=audit(1700000003.000:6001): \n";

	(void)state;
	views_of(exec_event, &v);
	assert_non_null(strstr(v.text, "process_creation: Image=/usr/bin/curl ProcessId=1234 User=1000 LogonId=1000 "
				       "CommandLine=curl -o /tmp/x y \" ABCDEFGH CurrentDirectory=/home/alice "
				       "ParentProcessId=900\n"));
	assert_non_null(strstr(v.text, "auditd: type=EXECVE argc=4 a0=curl"));

	views_of(text, &v);
	/* the parent comes from the table of execs seen */
	assert_non_null(strstr(v.text, "process_creation: Image=/usr/bin/bash ProcessId=900"));
	assert_null(strstr(v.text, "Image=/usr/bin/missing ProcessId"));	/* a failed exec created no process */
	assert_non_null(strstr(v.text, "file_event: Image=/usr/bin/wget ProcessId=1300 User=1000 LogonId=1000 "
				       "TargetFilename=/tmp/drop.sh\n"));
	assert_null(strstr(v.text, "TargetFilename=/tmp/\n"));
	assert_non_null(strstr(v.text, "network_connection: Image=/usr/bin/nc ProcessId=1301 DestinationIp=127.0.0.1 "
				       "DestinationPort=4444 Initiated=true\n"));
	/* only the connect that succeeded */
	assert_null(strstr(strstr(v.text, "network_connection:") + 1, "network_connection:"));
}

static void
test_parent_from_table(void **state)
{
	static struct views v;
	static char text[4096];

	(void)state;
	snprintf(text, sizeof text,
		 "type=SYSCALL msg=audit(1699999999.000:4000): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=900 "
		 "exe=\"/usr/bin/bash\"\n"
		 "type=EXECVE msg=audit(1699999999.000:4000): argc=2 a0=\"bash\" a1=\"-i\"\n"
		 "type=EOE msg=audit(1699999999.000:4000): \n%s", exec_event);
	views_of(text, &v);
	assert_non_null(strstr(v.text, "ParentProcessId=900 ParentImage=/usr/bin/bash ParentCommandLine=bash -i\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping_and_decoding),
		cmocka_unit_test(test_malformed_values_kept_as_written),
		cmocka_unit_test(test_pieces_of_any_size),
		cmocka_unit_test(test_enriched_and_single_record_events),
		cmocka_unit_test(test_hostile_lines_refused),
		cmocka_unit_test(test_open_events_bounded),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_parent_from_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
