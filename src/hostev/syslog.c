/*
 * hostev/syslog.c: log messages of the programs that matter for access
 * (sshd, sudo, su, PAM, account tools, package managers) from the systemd
 * journal or a syslog file, in the normalised model. The raw record is the
 * message as a syslog line shows it after its header: "IDENT[PID]: MESSAGE".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostev/hostev.h"

static const char *const watched[] = { "sshd", "sshd-session", "sudo", "su", "login", "passwd", "chpasswd",
				       "useradd", "usermod", "userdel", "groupadd", "groupmod", "gpasswd",
				       "systemd-logind", "polkitd", "pkexec", "apt", "apt-get", "dpkg",
				       "unattended-upgrade", "unattended-upgrades", "cron", "CRON", "unix_chkpwd",
				       "bulwark" };

/* Of those, the programs that write the auth log (Sigma's service: auth). */
static const char *const auth[] = { "sshd", "sshd-session", "sudo", "su", "login", "passwd", "chpasswd", "useradd",
				    "usermod", "userdel", "groupadd", "groupmod", "gpasswd", "systemd-logind", "polkitd",
				    "pkexec", "unix_chkpwd" };

static bool
listed(const char *const *list, size_t n, const char *ident, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && memcmp(ident, list[i], len) == 0)
			return true;
	return false;
}

bool
hostev_syslog_watched(const char *ident)
{
	return listed(watched, sizeof watched / sizeof watched[0], ident, strlen(ident));
}

const char *
hostev_syslog_watched_name(size_t i)
{
	return i < sizeof watched / sizeof watched[0] ? watched[i] : NULL;
}

bool
hostev_syslog_auth(const char *ident, size_t len)
{
	return listed(auth, sizeof auth / sizeof auth[0], ident, len);
}

/* The word after prefix in msg (up to a space), copied into out; false when prefix is absent. */
static bool
word_after(const char *msg, const char *prefix, char *out, size_t cap)
{
	const char *p = strstr(msg, prefix);
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(prefix);
	n = strcspn(p, " ;");
	if (n == 0 || n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static char *
dup_cut(const char *s)
{
	size_t n = strlen(s);
	char *d;

	if (n > HOSTEV_TEXT_MAX)
		n = HOSTEV_TEXT_MAX;
	if ((d = malloc(n + 1)) != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* "METHOD for ...": one word, then " for " (sshd's auth_log). */
static bool
method_for(const char *p)
{
	size_t n = strcspn(p, " ");

	return n > 0 && strncmp(p + n, " for ", 5) == 0;
}

/* Who, what, on what, how it ended, for the messages whose shape is known. */
static void
classify(const char *ident, const char *msg, char subject[128], char action[64], char object[512], char result[16])
{
	char w[128];

	subject[0] = object[0] = result[0] = '\0';
	snprintf(action, 64, "%s", ident);
	if (strncmp(ident, "sshd", 4) == 0) {
		const char *how = NULL;
		/* "Accepted|Failed METHOD[/SUBMETHOD] for ...": other "Accepted ..." lines (a key or
		 * certificate found acceptable before the login completes) are no login */
		if (strncmp(msg, "Accepted ", 9) == 0 && method_for(msg + 9)) {
			snprintf(result, 16, "success");
			how = "login";
		} else if (strncmp(msg, "Failed ", 7) == 0 && method_for(msg + 7)) {
			snprintf(result, 16, "failure");
			how = "login";
		} else if (strncmp(msg, "Invalid user ", 13) == 0) {
			snprintf(result, 16, "failure");
			snprintf(action, 64, "login");
			if (word_after(msg, "Invalid user ", w, sizeof w))
				snprintf(subject, 128, "%s", w);
		}
		if (how != NULL) {
			snprintf(action, 64, "%s", how);
			if (word_after(msg, " for invalid user ", w, sizeof w) || word_after(msg, " for ", w, sizeof w))
				snprintf(subject, 128, "%s", w);
		}
		if (word_after(msg, " from ", w, sizeof w))
			snprintf(object, 512, "%s", w);
		return;
	}
	if (strcmp(ident, "sudo") == 0) {
		const char *cmd = strstr(msg, "COMMAND=");
		size_t n = strspn(msg, " ");
		size_t u = strcspn(msg + n, " :");
		if (u > 0 && u < 128 && msg[n + u] == ' ') {
			memcpy(subject, msg + n, u);
			subject[u] = '\0';
		}
		snprintf(action, 64, "sudo");
		if (strstr(msg, "authentication failure") != NULL && word_after(msg, " user=", w, sizeof w))
			snprintf(subject, 128, "%s", w);	/* PAM's message: the user is at its end */
		if (cmd != NULL)
			snprintf(object, 512, "%s", cmd + 8);
		snprintf(result, 16, "%s",
			 strstr(msg, "authentication failure") || strstr(msg, "incorrect password") ||
					 strstr(msg, "NOT in sudoers") || strstr(msg, "command not allowed")
				 ? "failure"
				 : cmd != NULL ? "success" : "");
		return;
	}
	if (strcmp(ident, "su") == 0) {
		snprintf(action, 64, "su");
		if (word_after(msg, "(to ", w, sizeof w)) {
			w[strcspn(w, ")")] = '\0';
			snprintf(object, 512, "%s", w);
		}
		if (strstr(msg, "FAILED") || strstr(msg, "authentication failure"))
			snprintf(result, 16, "failure");
		else if (strncmp(msg, "(to ", 4) == 0 || strstr(msg, "session opened"))
			snprintf(result, 16, "success");
		return;
	}
	if (strstr(msg, "authentication failure") != NULL) {
		snprintf(result, 16, "failure");
		if (word_after(msg, " user=", w, sizeof w))
			snprintf(subject, 128, "%s", w);
	}
}

int
hostev_syslog_normalise(const char *ident, uint64_t pid, const char *msg, int64_t time_ms, const char *source,
			struct hostev_event *out, struct bw_err *err)
{
	char subject[128], action[64], object[512], result[16];
	struct bw_buf raw = { 0 };
	size_t mlen = strlen(msg);

	memset(out, 0, sizeof *out);
	snprintf(out->source, sizeof out->source, "%s", source);
	out->time_ms = time_ms;
	classify(ident, msg, subject, action, object, result);
	if (pid > 0 ? bw_buf_printf(&raw, "%s[%llu]: ", ident, (unsigned long long)pid) != 0
		    : bw_buf_printf(&raw, "%s: ", ident) != 0) {
		bw_buf_free(&raw);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	if (raw.len + mlen > HOSTEV_RAW_MAX) {
		mlen = HOSTEV_RAW_MAX - raw.len;
		out->truncated = 1;
	}
	if (bw_buf_append(&raw, msg, mlen) != 0) {
		bw_buf_free(&raw);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	out->raw = bw_buf_take(&raw, &out->raw_len);
	out->subject = dup_cut(subject);
	out->action = dup_cut(action);
	out->object = dup_cut(object);
	out->result = dup_cut(result);
	if (out->raw == NULL || out->subject == NULL || out->action == NULL || out->object == NULL ||
	    out->result == NULL) {
		hostev_event_clear(out);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	return 0;
}

static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* "Nov 28 08:00:01 " (the year is the reading machine's: the format has none). */
static const char *
classic_time(const char *p, int64_t now_ms, int64_t *ms)
{
	struct tm tm = { 0 }, now_tm;
	time_t now = (time_t)(now_ms / 1000);
	int m, day, hh, mm, ss, n = 0;

	for (m = 0; m < 12 && strncmp(p, months[m], 3) != 0; m++)
		;
	if (m == 12 || p[3] != ' ' || sscanf(p + 4, "%2d %2d:%2d:%2d %n", &day, &hh, &mm, &ss, &n) != 4 || n == 0 ||
	    day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return NULL;
	localtime_r(&now, &now_tm);
	tm.tm_year = now_tm.tm_year;
	tm.tm_mon = m;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	tm.tm_isdst = -1;
	if (m > now_tm.tm_mon + 1)
		tm.tm_year--;	/* December's lines read in January */
	*ms = (int64_t)mktime(&tm) * 1000;
	return p + 4 + n;
}

/* "2026-11-28T08:00:01.123456+00:00 " (rsyslog's RFC 3339 format). */
static const char *
rfc3339_time(const char *p, int64_t *ms)
{
	struct tm tm = { 0 };
	int y, mo, d, hh, mi, ss, n = 0, oh = 0, om = 0;
	long frac = 0, scale = 1;
	const char *q;
	char sign;

	for (n = 0; n < 19; n++)	/* exactly YYYY-MM-DDTHH:MM:SS: sscanf alone would take "+1" or " 1" for a digit */
		if (!(n == 4 || n == 7 ? p[n] == '-' : n == 10 ? p[n] == 'T' : n == 13 || n == 16 ? p[n] == ':'
								   : isdigit((unsigned char)p[n])))
			return NULL;
	if (sscanf(p, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &hh, &mi, &ss) != 6)
		return NULL;
	q = p + 19;
	if (*q == '.') {
		for (q++; isdigit((unsigned char)*q) && scale < 1000000000L; q++, scale *= 10)
			frac = frac * 10 + (*q - '0');
		while (isdigit((unsigned char)*q))
			q++;
	}
	sign = *q;
	if (sign == 'Z') {
		q++;
	} else if ((sign == '+' || sign == '-') && isdigit((unsigned char)q[1]) && isdigit((unsigned char)q[2]) &&
		   q[3] == ':' && isdigit((unsigned char)q[4]) && isdigit((unsigned char)q[5])) {
		oh = (q[1] - '0') * 10 + (q[2] - '0');
		om = (q[4] - '0') * 10 + (q[5] - '0');
		q += 6;
	} else {
		return NULL;
	}
	if (*q != ' ' || mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60)
		return NULL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	*ms = (int64_t)timegm(&tm) * 1000 + (scale > 1 ? frac * 1000 / scale : 0) -
	      (sign == '-' ? -1 : sign == '+' ? 1 : 0) * ((int64_t)oh * 3600 + om * 60) * 1000;
	return q + 1;
}

int
hostev_syslog_line(const char *line, int64_t now_ms, int64_t *time_ms, char ident[64], uint64_t *pid,
		   const char **msg)
{
	const char *p = rfc3339_time(line, time_ms);
	size_t n;

	if (p == NULL && (p = classic_time(line, now_ms, time_ms)) == NULL)
		return -1;
	n = strcspn(p, " ");	/* the host name */
	if (n == 0 || p[n] != ' ')
		return -1;
	p += n + 1;
	n = strcspn(p, "[: ");
	if (n == 0 || n >= 64)
		return -1;
	memcpy(ident, p, n);
	ident[n] = '\0';
	p += n;
	*pid = 0;
	if (*p == '[') {
		char *end;
		*pid = strtoull(p + 1, &end, 10);
		if (*end != ']')
			return -1;
		p = end + 1;
	}
	if (p[0] != ':' || p[1] != ' ')
		return -1;
	*msg = p + 2;
	return 0;
}

/* The position of the last occurrence of needle (nlen bytes) in s (len bytes), or NULL. */
static const char *
last_of(const char *s, size_t len, const char *needle, size_t nlen)
{
	size_t i;

	for (i = len >= nlen ? len - nlen + 1 : 0; i-- > 0;)
		if (memcmp(s + i, needle, nlen) == 0)
			return s + i;
	return NULL;
}

bool
hostev_sshd_cert_login(const char *msg, size_t len, struct hostev_cert_login *out)
{
	static const char accepted[] = "Accepted publickey for ", ssh2[] = " ssh2: ", id[] = " ID ",
			  serial[] = " (serial ", ca[] = ") CA ";
	const char *end = msg + len, *p, *q, *s, *c, *fp;
	uint64_t v = 0;

	memset(out, 0, sizeof *out);
	if (len < sizeof accepted - 1 || memcmp(msg, accepted, sizeof accepted - 1) != 0 ||
	    (p = last_of(msg, len, ssh2, sizeof ssh2 - 1)) == NULL)
		return false;
	p += sizeof ssh2 - 1;	/* "TYPE-CERT SHA256:FP ID KEYID (serial N) CA TYPE SHA256:FP" */
	q = memchr(p, ' ', (size_t)(end - p));
	if (q == NULL || q - p < 6 || memcmp(q - 5, "-CERT", 5) != 0)
		return false;	/* a plain key */
	if ((q = memchr(q + 1, ' ', (size_t)(end - q - 1))) == NULL || (size_t)(end - q) < sizeof id - 1 ||
	    memcmp(q, id, sizeof id - 1) != 0)
		return false;
	q += sizeof id - 1;	/* the key id: up to the last " (serial " (an id may hold spaces) */
	if ((s = last_of(q, (size_t)(end - q), serial, sizeof serial - 1)) == NULL)
		return false;
	out->key_id = q;
	out->key_id_len = (size_t)(s - q);
	for (c = s + sizeof serial - 1; c < end && *c >= '0' && *c <= '9'; c++) {
		if (v > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*c - '0');
	}
	if (c == s + sizeof serial - 1 || (size_t)(end - c) < sizeof ca - 1 || memcmp(c, ca, sizeof ca - 1) != 0)
		return false;
	c += sizeof ca - 1;	/* "TYPE SHA256:FP" */
	if ((fp = memchr(c, ' ', (size_t)(end - c))) == NULL)
		return false;
	fp++;
	out->ca_fp = fp;
	for (c = fp; c < end && *c != ' ' && *c != '\r' && *c != '\n'; c++)
		;
	out->ca_fp_len = (size_t)(c - fp);
	if (out->ca_fp_len == 0)
		return false;
	out->serial = v;
	return true;
}

bool
hostev_event_cert_login(const struct hostev_event *ev, struct hostev_cert_login *out)
{
	const char *colon = memchr(ev->raw, ':', ev->raw_len);
	size_t off;

	memset(out, 0, sizeof *out);
	if ((strcmp(ev->source, "journal") != 0 && strcmp(ev->source, "syslog") != 0) || colon == NULL ||
	    (off = (size_t)(colon - ev->raw) + 2) > ev->raw_len || colon[1] != ' ')
		return false;	/* not "IDENT[PID]: MESSAGE" */
	return hostev_sshd_cert_login(ev->raw + off, ev->raw_len - off, out);
}
