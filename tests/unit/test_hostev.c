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

static void
normalise_event(void *ctx, const struct hostev_audit_event *ev)
{
	struct { struct hostev_event e; int n; } *nc = ctx;
	struct bw_err err = { 0 };

	if (nc->n++ == 0)
		assert_int_equal(hostev_audit_normalise(ev, &nc->e, &err), 0);
}

/* ---- the normalised model: batches, heartbeats, log entries ---- */

static const char good_batch[] =
	"{\"host\":\"web1\",\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":7,\"events\":["
	"{\"source\":\"auditd\",\"time\":1795845114000,\"subject\":\"alice\",\"action\":\"execve\","
	"\"object\":\"/tmp/x\",\"result\":\"success\",\"raw\":\"type=EOE msg=audit(1.000:1): \"},"
	"{\"source\":\"fim\",\"time\":1,\"raw\":\"a\\nb\",\"truncated\":2}]}";

static void
test_batch_parse_and_format(void **state)
{
	struct hostev_batch b, b2;
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(hostev_batch_parse(good_batch, strlen(good_batch), &b, &err), 0);
	assert_string_equal(b.host, "web1");
	assert_int_equal(b.seq, 7);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.events[0].object, "/tmp/x");
	assert_string_equal(b.events[1].subject, "");	/* absent: empty, never NULL */
	assert_int_equal(b.events[1].raw_len, 3);
	assert_int_equal(b.events[1].truncated, 2);
	assert_int_equal(hostev_batch_format(&b, &text, &len, &err), 0);
	assert_int_equal(hostev_batch_parse(text, len, &b2, &err), 0);
	assert_int_equal(b2.n, 2);
	assert_string_equal(b2.events[1].raw, "a\nb");
	assert_int_equal(b2.events[0].time_ms, 1795845114000);
	free(text);
	hostev_batch_clear(&b2);
	/* bytes that are not UTF-8 in a record (auditd writes names as the kernel has them) never stop a batch */
	free(b.events[1].raw);
	b.events[1].raw = strdup("a\xff\x1d\"b");
	b.events[1].raw_len = 5;
	assert_int_equal(hostev_batch_format(&b, &text, &len, &err), 0);
	assert_int_equal(hostev_batch_parse(text, len, &b2, &err), 0);
	assert_string_equal(b2.events[1].raw, "a\xef\xbf\xbd\x1d\"b");
	free(text);
	hostev_batch_clear(&b);
	hostev_batch_clear(&b2);
}

static void
test_batch_refusals_named(void **state)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "[]", "not a JSON object" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdeF\",\"seq\":1,\"events\":[]}", "lower-case hex" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":0,\"events\":[]}", "\"seq\" must be" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"events\":[]}", "1 to 4096 events" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"x\":1,\"events\":[]}", "unknown key \"x\"" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"events\":[{\"source\":\"auditd\",\"time\":1}]}",
		  "event 1: \"raw\" is missing" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"events\":[{\"source\":\"x\",\"time\":1,"
		  "\"raw\":\"r\"}]}", "event 1: \"source\" must be" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"events\":[{\"source\":\"fim\",\"time\":-1,"
		  "\"raw\":\"r\"}]}", "\"time\" must be an integer" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"events\":[{\"source\":\"fim\",\"time\":1,"
		  "\"raw\":\"r\\u0000s\"}]}", "NUL" },
		{ "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,\"seq\":2,\"events\":[]}", "not JSON" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct hostev_batch b;
		struct bw_err err = { 0 };
		assert_int_equal(hostev_batch_parse(bad[i].json, strlen(bad[i].json), &b, &err), BW_EINVAL);
		if (strstr(err.msg, bad[i].why) == NULL)
			fail_msg("batch %zu: \"%s\" does not say \"%s\"", i, err.msg, bad[i].why);
		hostev_batch_clear(&b);
	}
	{
		/* an over-long subject is refused, not cut */
		char *big = malloc(HOSTEV_TEXT_MAX + 200);
		struct hostev_batch b;
		struct bw_err err = { 0 };
		int n = snprintf(big, HOSTEV_TEXT_MAX + 200, "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":1,"
				 "\"events\":[{\"source\":\"fim\",\"time\":1,\"raw\":\"r\",\"subject\":\"%0*d\"}]}",
				 HOSTEV_TEXT_MAX + 1, 0);
		assert_int_equal(hostev_batch_parse(big, (size_t)n, &b, &err), BW_EINVAL);
		assert_non_null(strstr(err.msg, "longer than 1024 bytes"));
		hostev_batch_clear(&b);
		free(big);
	}
}

static void
test_heartbeat_and_entry(void **state)
{
	struct hostev_heartbeat hb = { .time_ms = 5, .read = 1, .sent = 2, .spooled = 3, .lost = 4, .source_errors = 5,
				       .spool_bytes = 6, .spool_max = 7, .nsources = 1 };
	struct hostev_heartbeat hb2;
	struct hostev_batch b;
	struct hostev_entry e = { .seq = 7, .n = 1, .received_ms = 99 }, e2;
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len;

	(void)state;
	memcpy(hb.epoch, "0123456789abcdef0123456789abcdef", 33);
	snprintf(hb.sources[0].name, sizeof hb.sources[0].name, "auditd");
	snprintf(hb.sources[0].state, sizeof hb.sources[0].state, "error");
	snprintf(hb.sources[0].error, sizeof hb.sources[0].error, "gone");
	assert_int_equal(hostev_heartbeat_format(&hb, &text, &len, &err), 0);
	assert_int_equal(hostev_heartbeat_parse(text, len, &hb2, &err), 0);
	assert_int_equal(hb2.lost, 4);
	assert_int_equal(hb2.spool_max, 7);
	assert_string_equal(hb2.sources[0].error, "gone");
	free(text);
	{
		static const char no_read[] = "{\"epoch\":\"0123456789abcdef0123456789abcdef\",\"time\":1,"
					      "\"counters\":{},\"spool\":{},\"sources\":[]}";
		assert_int_equal(hostev_heartbeat_parse(no_read, strlen(no_read), &hb2, &err), BW_EINVAL);
	}
	assert_non_null(strstr(err.msg, "\"read\" is missing"));

	assert_int_equal(hostev_batch_parse(good_batch, strlen(good_batch), &b, &err), 0);
	snprintf(e.host, sizeof e.host, "web1");
	memcpy(e.epoch, b.epoch, sizeof e.epoch);
	e.ev = b.events[0];
	assert_int_equal(hostev_entry_format(&e, &text, &len, &err), 0);
	assert_non_null(strstr(text, "{\"host\":\"web1\",\"epoch\":\"0123456789abcdef0123456789abcdef\",\"seq\":7,\"n\":1,"
				     "\"received\":99,\"source\":\"auditd\""));
	assert_int_equal(hostev_entry_parse(text, len, &e2, &err), 0);
	assert_string_equal(e2.host, "web1");
	assert_int_equal(e2.n, 1);
	assert_string_equal(e2.ev.action, "execve");
	hostev_entry_clear(&e2);
	free(text);
	/* an entry past 65535 bytes is refused (a tlog entry's limit) */
	{
		char *raw = malloc(70000);
		memset(raw, 'a', 69999);
		raw[69999] = '\0';
		e.ev.raw = raw;
		e.ev.raw_len = 69999;
		assert_int_equal(hostev_entry_format(&e, &text, &len, &err), BW_ERANGE);
		free(raw);
	}
	hostev_batch_clear(&b);
}

/* Where a reader may resume: never past an event it has not delivered. */
static void
count_event(void *ctx, const struct hostev_audit_event *ev)
{
	(void)ev;
	(*(int *)ctx)++;
}

static void
test_resume_offset_and_quiet(void **state)
{
	const char *exec = "type=SYSCALL msg=audit(1795845114.000:10): arch=c000003e syscall=59 success=yes exit=0\n"
			   "type=EOE msg=audit(1795845114.000:10): \n";
	const char *login = "type=SYSCALL msg=audit(1795845114.000:11): arch=c000003e syscall=59 success=yes exit=0\n";
	const char *half = "type=USER_LOGIN msg=audit(1795845114.000:12): pid=1";
	struct hostev_audit_reader *r;
	struct bw_err err = { 0 };
	int n = 0;

	(void)state;
	assert_int_equal(hostev_audit_reader_new(count_event, NULL, &n, &r, &err), 0);
	assert_int_equal(hostev_audit_reader_feed(r, exec, strlen(exec), &err), 0);
	assert_int_equal(n, 1);	/* EOE ends its event at once */
	assert_int_equal(hostev_audit_reader_resume_offset(r), strlen(exec));
	assert_int_equal(hostev_audit_reader_feed(r, login, strlen(login), &err), 0);
	assert_int_equal(n, 1);	/* no EOE (yet): open until another event or quiet */
	assert_int_equal(hostev_audit_reader_resume_offset(r), strlen(exec));
	assert_true(hostev_audit_reader_idle(r));
	assert_int_equal(n, 2);
	assert_int_equal(hostev_audit_reader_resume_offset(r), strlen(exec) + strlen(login));
	assert_false(hostev_audit_reader_idle(r));	/* nothing open */
	assert_int_equal(hostev_audit_reader_feed(r, half, strlen(half), &err), 0);
	assert_false(hostev_audit_reader_idle(r));	/* a half line: its event may go on */
	assert_int_equal(hostev_audit_reader_resume_offset(r), strlen(exec) + strlen(login));
	hostev_audit_reader_free(r);
}

static void
test_normalise(void **state)
{
	static const char text[] =
		"type=SYSCALL msg=audit(1795845114.123:20): arch=c000003e syscall=257 success=no exit=-13 ppid=1 pid=5 "
		"auid=4294967295 uid=0 exe=\"/usr/bin/cat\"\n"
		"type=PATH msg=audit(1795845114.123:20): item=0 name=\"/etc/\" nametype=PARENT\n"
		"type=PATH msg=audit(1795845114.123:20): item=1 name=\"/etc/shadow\" nametype=NORMAL\n"
		"type=EOE msg=audit(1795845114.123:20): \n";
	struct seen s = { 0 };
	struct norm_ctx {
		struct hostev_event e;
		int n;
	} *nc = calloc(1, sizeof *nc);

	(void)state;
	(void)s;
	{
		struct hostev_audit_reader *r;
		struct bw_err err = { 0 };
		assert_int_equal(hostev_audit_reader_new(normalise_event, NULL, nc, &r, &err), 0);
		assert_int_equal(hostev_audit_reader_feed(r, text, strlen(text), &err), 0);
		assert_int_equal(hostev_audit_reader_finish(r, &err), 0);
		hostev_audit_reader_free(r);
	}
	assert_int_equal(nc->n, 1);
	assert_string_equal(nc->e.source, "auditd");
	assert_int_equal(nc->e.time_ms, 1795845114123);
	assert_string_equal(nc->e.subject, "unset");
	assert_string_equal(nc->e.action, "openat");
	assert_string_equal(nc->e.object, "/etc/shadow");	/* not the parent directory */
	assert_string_equal(nc->e.result, "failure");
	assert_int_equal(nc->e.raw_len, strlen(text) - 1);	/* the lines as read, joined */
	hostev_event_clear(&nc->e);
	free(nc);
}

static void
test_syslog_lines(void **state)
{
	char ident[64];
	uint64_t pid;
	int64_t t;
	const char *msg;
	struct hostev_event e;
	struct bw_err err = { 0 };
	static const char *const bad[] = {
		"", "not a syslog line", "Nov 28 08:00:01 host", "Nov 28 08:00:01 host sshd[12 x: m",
		"2026-11-28T08:00:02.25+01:0", "2026-11-28T08:00:02+0100 host a: m", "2026-1-28T08:00:02Z host a: m",
		"Foo 28 08:00:01 host sshd: m", "Nov 28 25:00:01 host sshd: m", "2026-11-28T08:00:02Z host sshd:m",
	};
	size_t i;

	(void)state;
	assert_int_equal(hostev_syslog_line("2026-11-28T08:00:02.250000+01:00 web2 su[801]: (to root) alice on pts/1",
					    0, &t, ident, &pid, &msg), 0);
	assert_int_equal(t, 1795849202250);
	assert_string_equal(ident, "su");
	assert_int_equal(pid, 801);
	assert_string_equal(msg, "(to root) alice on pts/1");
	assert_int_equal(hostev_syslog_line("2026-11-28T07:00:02Z h CRON: x", 0, &t, ident, &pid, &msg), 0);
	assert_int_equal(t, 1795849202000);
	assert_int_equal(pid, 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (hostev_syslog_line(bad[i], 1795845114000, &t, ident, &pid, &msg) == 0)
			fail_msg("accepted: %s", bad[i]);

	assert_int_equal(hostev_syslog_normalise("sshd", 9, "Accepted publickey for alice from 10.0.0.7 port 5 ssh2", 1,
						 "journal", &e, &err), 0);
	assert_string_equal(e.raw, "sshd[9]: Accepted publickey for alice from 10.0.0.7 port 5 ssh2");
	assert_string_equal(e.subject, "alice");
	assert_string_equal(e.action, "login");
	assert_string_equal(e.object, "10.0.0.7");
	assert_string_equal(e.result, "success");
	hostev_event_clear(&e);
	assert_int_equal(hostev_syslog_normalise("sshd", 9, "Failed password for invalid user admin from 203.0.113.9 port 4",
						 1, "syslog", &e, &err), 0);
	assert_string_equal(e.subject, "admin");
	assert_string_equal(e.result, "failure");
	hostev_event_clear(&e);
	assert_int_equal(hostev_syslog_normalise("sudo", 0, "   bob : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh -c id",
						 1, "syslog", &e, &err), 0);
	assert_string_equal(e.subject, "bob");
	assert_string_equal(e.object, "/bin/sh -c id");
	assert_string_equal(e.result, "success");
	assert_string_equal(e.raw, "sudo:    bob : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh -c id");
	hostev_event_clear(&e);
	/* sshd at LogLevel VERBOSE: a certificate found acceptable is not yet a login */
	assert_int_equal(hostev_syslog_normalise("sshd", 9, "Accepted certificate ID \"req-1:v\" (serial 1) signed by "
						 "ED25519 CA SHA256:x via /etc/ssh/ca.pub", 1, "syslog", &e, &err), 0);
	assert_string_equal(e.action, "sshd");
	assert_string_equal(e.result, "");
	hostev_event_clear(&e);
	assert_int_equal(hostev_syslog_normalise("sshd", 9, "Accepted keyboard-interactive/pam for bob from 10.0.0.2 port 9 "
						 "ssh2", 1, "syslog", &e, &err), 0);
	assert_string_equal(e.action, "login");
	assert_string_equal(e.subject, "bob");
	assert_string_equal(e.result, "success");
	hostev_event_clear(&e);
	assert_true(hostev_syslog_watched("sshd"));
	assert_false(hostev_syslog_watched("kernel"));
}

static void
test_sshd_cert_login(void **state)
{
	static const char ok[] = "Accepted publickey for root from 127.0.0.1 port 59584 ssh2: ED25519-CERT "
				 "SHA256:xtGe/+4q ID req-12:vendor1:approvers=appr1 (serial 12) CA ED25519 "
				 "SHA256:P5bf/yz1rqNK";
	static const char spaced[] = "Accepted publickey for a from ::1 port 1 ssh2: RSA-CERT SHA256:k ID some id (serial 3) "
				     "x (serial 18446744073709551615) CA RSA SHA256:c";
	static const char *const no[] = {
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519 SHA256:plainkey",
		"Accepted password for root from 1.2.3.4 port 5 ssh2",
		"Failed publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT SHA256:x ID i (serial 1) CA ED25519 SHA256:y",
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT SHA256:x ID i (serial ) CA ED25519 SHA256:y",
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT SHA256:x ID i (serial 18446744073709551616) "
		"CA ED25519 SHA256:y",
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT SHA256:x ID i (serial 1) CA ED25519 ",
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT SHA256:x ID i (serial 1) CA ED25519",
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT SHA256:x (serial 1) CA ED25519 SHA256:y",
		"Accepted publickey for root from 1.2.3.4 port 5 ssh2: ED25519-CERT",
		"Accepted publickey for ",
	};
	struct hostev_cert_login cl;
	size_t i, k;

	(void)state;
	assert_true(hostev_sshd_cert_login(ok, strlen(ok), &cl));
	assert_int_equal(cl.serial, 12);
	assert_int_equal(cl.key_id_len, strlen("req-12:vendor1:approvers=appr1"));
	assert_memory_equal(cl.key_id, "req-12:vendor1:approvers=appr1", cl.key_id_len);
	assert_int_equal(cl.ca_fp_len, strlen("SHA256:P5bf/yz1rqNK"));
	assert_memory_equal(cl.ca_fp, "SHA256:P5bf/yz1rqNK", cl.ca_fp_len);
	/* the message need not end in NUL: a cut copy loses the CA's fingerprint's tail, never reads past */
	assert_true(hostev_sshd_cert_login(ok, strlen(ok) - 4, &cl));
	assert_int_equal(cl.ca_fp_len, strlen("SHA256:P5bf/yz1"));
	for (k = 0; k < strlen(ok) - 20; k++)
		assert_false(hostev_sshd_cert_login(ok, k, &cl));
	/* a key id with spaces, even one that looks like a serial: the last "(serial N) CA" counts */
	assert_true(hostev_sshd_cert_login(spaced, strlen(spaced), &cl));
	assert_int_equal(cl.serial, UINT64_MAX);
	assert_int_equal(cl.key_id_len, strlen("some id (serial 3) x"));
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		if (hostev_sshd_cert_login(no[i], strlen(no[i]), &cl))
			fail_msg("taken for a certificate login: %s", no[i]);
}

static void
test_agent_actions(void **state)
{
	struct hostev_action a = { 1795845114000, "session.begin", "uid=1000", "session 7", "success",
				   "pid 9, \"until\" 1795845714\n" };
	static const char *const bad[] = {
		"", "[]", "{\"time\":1,\"action\":\"a\",\"result\":\"success\",\"extra\":1}",
		"{\"time\":0,\"action\":\"a\",\"result\":\"success\"}",
		"{\"time\":1,\"action\":\"Session\",\"result\":\"success\"}",
		"{\"time\":1,\"action\":\"\",\"result\":\"success\"}",
		"{\"time\":1,\"action\":\"a\",\"result\":\"ok\"}",
		"{\"time\":1,\"action\":\"a\"}",
		"{\"time\":1,\"action\":\"a\",\"result\":\"success\",\"subject\":\"a\\u0000b\"}",
		"{\"time\":1,\"action\":\"a\",\"result\":\"success\",\"time\":2}",
	};
	struct hostev_event e;
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0, i;

	(void)state;
	assert_int_equal(hostev_action_format(&a, &text, &len, &err), 0);
	assert_int_equal(hostev_action_parse(text, len, &e, &err), 0);
	assert_string_equal(e.source, "agent");
	assert_int_equal(e.time_ms, 1795845114000);
	assert_string_equal(e.action, "session.begin");
	assert_string_equal(e.subject, "uid=1000");
	assert_string_equal(e.object, "session 7");
	assert_string_equal(e.result, "success");
	assert_int_equal(e.raw_len, len);
	assert_memory_equal(e.raw, text, len);	/* raw is the line as written, detail and all */
	assert_non_null(strstr(e.raw, "\"detail\":\"pid 9, \\\"until\\\" 1795845714\\n\""));
	hostev_event_clear(&e);
	free(text);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		if (hostev_action_parse(bad[i], strlen(bad[i]), &e, &err) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err.msg[0] != '\0');
		assert_null(e.raw);
	}
	{
		char big[5000];
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		a.detail = big;
		assert_int_equal(hostev_action_format(&a, &text, &len, &err), BW_ERANGE);
		assert_null(text);
	}
}

struct seen_doc {
	enum detect_source src;
	char fields[1024];	/* "name=value;" of the document */
	int n;
};

static void
keep_doc(void *ctx, enum detect_source src, const struct detect_event *doc)
{
	struct seen_doc *sd = ctx;
	size_t i, off = 0;

	sd->src = src;
	sd->n++;
	for (i = 0; i < doc->nfields && off < sizeof sd->fields; i++)
		off += (size_t)snprintf(sd->fields + off, sizeof sd->fields - off, "%s=%.*s;", doc->fields[i].name,
					(int)doc->fields[i].len, doc->fields[i].value);
}

/* File integrity and agent actions as rule documents (file_change, agent). */
static void
test_fim_and_agent_views(void **state)
{
	char raw[] = "path=/etc/sudoers kind=file old_sha256=aa old_mode=0440 old_uid=0 old_gid=0 old_size=3 "
		     "new_sha256=bb new_mode=0640 new_uid=0 new_gid=0 new_size=9 bogus=1 nokey";
	struct hostev_event fim = { .source = "fim", .subject = "uid=0", .action = "changed", .object = "/etc/sudoers",
				    .result = "", .raw = raw, .raw_len = sizeof raw - 1 };
	char araw[] = "{\"time\":1,\"action\":\"session.kill\"}";
	struct hostev_event act = { .source = "agent", .subject = "uid=1001", .action = "session.kill",
				    .object = "session 7", .result = "success", .raw = araw, .raw_len = sizeof araw - 1 };
	struct hostev_event other = { .source = "auditd", .subject = "", .action = "", .object = "", .result = "",
				      .raw = araw, .raw_len = 1 };
	struct seen_doc sd = { 0 };

	(void)state;
	detect_event_views(&fim, "web1", keep_doc, &sd);
	assert_int_equal(sd.n, 1);
	assert_int_equal(sd.src, DETECT_SRC_FILE_CHANGE);
	assert_string_equal(sd.fields, "TargetFilename=/etc/sudoers;action=changed;User=0;Computer=web1;kind=file;"
				       "old_sha256=aa;old_mode=0440;old_uid=0;old_gid=0;old_size=3;new_sha256=bb;"
				       "new_mode=0640;new_uid=0;new_gid=0;new_size=9;");
	memset(&sd, 0, sizeof sd);
	detect_event_views(&act, "web1", keep_doc, &sd);
	assert_int_equal(sd.n, 1);
	assert_int_equal(sd.src, DETECT_SRC_AGENT);
	assert_string_equal(sd.fields, "action=session.kill;subject=uid=1001;object=session 7;result=success;Computer=web1;");
	memset(&sd, 0, sizeof sd);
	detect_event_views(&other, "web1", keep_doc, &sd);	/* auditd's go through the mapper, not here */
	assert_int_equal(sd.n, 0);
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
		cmocka_unit_test(test_batch_parse_and_format),
		cmocka_unit_test(test_batch_refusals_named),
		cmocka_unit_test(test_heartbeat_and_entry),
		cmocka_unit_test(test_resume_offset_and_quiet),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_syslog_lines),
		cmocka_unit_test(test_sshd_cert_login),
		cmocka_unit_test(test_agent_actions),
		cmocka_unit_test(test_fim_and_agent_views),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
