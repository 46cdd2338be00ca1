/*
 * agent/guard.c: the session guard. sshd checks a certificate's validity
 * only at login, and the session wrapper runs as the vendor's account, so it
 * cannot end processes that detach (setsid, double fork) or ignore SIGTERM.
 * The guard runs as root on the host. The wrapper registers each session at
 * its start, before any of the vendor's code runs; the guard identifies the
 * session by its kernel audit session id (/proc/PID/sessionid: set when
 * pam_loginuid writes the login uid, inherited by every descendant, and not
 * changeable without CAP_AUDIT_CONTROL), so a process that leaves the
 * session's process group or terminal still belongs to it. At the window's
 * end every process of the session gets SIGTERM; a few seconds later the
 * remaining ones are stopped (so none can fork any more) and killed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent.h"
#include "agent_internal.h"
#include "hostev/hostev.h"

#define NO_SESSION 4294967295u	/* /proc/PID/sessionid before any login uid was set */
#define GUARD_MAX_SESSIONS 4096
#define GUARD_MAX_WINDOW (7 * 86400)	/* a deadline further away than this is refused */
#define GUARD_GRACE_SECS 3		/* SIGTERM, then this long before SIGKILL */
#define GUARD_READ_MS 100		/* a registering client says everything at once: it gets this long */
#define GUARD_ACCEPTS_PER_TICK 8	/* then the sweep runs: idle clients cannot hold it off */

struct guarded {
	uint32_t session;
	uint32_t loginuid;
	int64_t deadline;
	int64_t term_at;		/* when SIGTERM went out (0: not yet) */
};

struct guard {
	const struct agent_guard_opts *o;
	FILE *log;
	struct guarded s[GUARD_MAX_SESSIONS];
	size_t n;
};

/*
 * Records what the guard did as an agent action (when it knows the agent's
 * state directory), for `agent run` to ship; a failure is logged, never fatal.
 */
static void
guard_action(struct guard *g, const char *action, uint32_t uid, uint32_t session, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void
guard_action(struct guard *g, const char *action, uint32_t uid, uint32_t session, bool ok, const char *fmt, ...)
{
	char subject[32], object[32], detail[256];
	struct hostev_action a = { .time_ms = bw_now_ms(), .action = action, .subject = subject, .object = object,
				   .result = ok ? "success" : "failure", .detail = detail };
	struct bw_err err = { 0 };
	va_list ap;

	if (g->o->agent_state == NULL)
		return;
	snprintf(subject, sizeof subject, "uid=%u", uid);
	snprintf(object, sizeof object, "session %u", session);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (agent_action_record(g->o->agent_state, &a, &err) != 0)
		fprintf(g->log, "guard: %s of session %u not recorded: %s\n", action, session, err.msg);
}

/* Reads /proc/PID/<file> into buf (NUL-terminated); false when unreadable or empty. */
static bool
proc_read(const char *pid, const char *file, char *buf, size_t cap)
{
	char path[64];
	ssize_t k;
	int fd;

	snprintf(path, sizeof path, "/proc/%s/%s", pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	k = read(fd, buf, cap - 1);
	close(fd);
	if (k <= 0)
		return false;
	buf[k] = '\0';
	return true;
}

/* /proc/PID/<file> as an unsigned 32-bit number; false when unreadable. */
static bool
proc_u32(const char *pid, const char *file, uint32_t *out)
{
	char buf[32];
	uint64_t v;

	if (!proc_read(pid, file, buf, sizeof buf) || bw_parse_u64(buf, strcspn(buf, "\n"), &v) != 0 || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Is process pid (a /proc entry name) a live member of session? Zombies are dead already. */
static bool
in_session(const char *pid, uint32_t session)
{
	char buf[512], *p;
	uint32_t sid;

	if (pid[0] < '1' || pid[0] > '9' || !proc_u32(pid, "sessionid", &sid) || sid != session ||
	    !proc_read(pid, "stat", buf, sizeof buf))
		return false;
	/* "PID (COMM) STATE ...": COMM may hold anything, so the state follows the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return false;
	return p[2] != 'Z' && p[2] != 'X';
}

/*
 * Sends sig to every process of session (through a pidfd, after checking the
 * session id again, so a reused pid is never hit). Returns how many.
 */
static size_t
signal_session(uint32_t session, int sig)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t hit = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		int fd;
		if (!in_session(e->d_name, session))
			continue;
		if ((fd = (int)syscall(SYS_pidfd_open, (pid_t)atoi(e->d_name), 0)) < 0)
			continue;	/* gone meanwhile */
		if (in_session(e->d_name, session) && syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0)
			hit++;
		close(fd);
	}
	closedir(d);
	return hit;
}

/*
 * Kills every process of the session: each pass stops them (a stopped
 * process cannot fork), then kills them, until a pass finds none. Returns
 * how many were killed.
 */
static size_t
kill_session(uint32_t session)
{
	size_t pass, total = 0;

	for (pass = 0; pass < 50; pass++) {
		if (signal_session(session, SIGSTOP) == 0)
			break;
		total += signal_session(session, SIGKILL);
		usleep(20000);	/* let the kernel tear them down before looking again */
	}
	return total;
}

/* Does any process belong to session? */
static bool
session_alive(uint32_t session)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool alive = false;

	if (d == NULL)
		return true;	/* cannot tell: keep guarding it */
	while (!alive && (e = readdir(d)) != NULL)
		alive = in_session(e->d_name, session);
	closedir(d);
	return alive;
}

/* Writes the registrations (so a restarted guard keeps guarding them). */
static int
guard_save(struct guard *g, struct bw_err *err)
{
	json_t *arr = json_array();
	char *text;
	size_t i;
	int r;

	for (i = 0; arr != NULL && i < g->n; i++)
		json_array_append_new(arr, json_pack("{s:I, s:I, s:I}", "session", (json_int_t)g->s[i].session,
						     "loginuid", (json_int_t)g->s[i].loginuid, "deadline",
						     (json_int_t)g->s[i].deadline));
	if (arr == NULL || (text = json_dumps(arr, JSON_COMPACT)) == NULL) {
		json_decref(arr);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	json_decref(arr);
	r = bw_file_write_atomic(g->o->state_file, text, strlen(text), 0600, err);
	free(text);
	return r;
}

static int
guard_load(struct guard *g, struct bw_err *err)
{
	uint8_t *data = NULL;
	size_t len, i;
	json_t *arr, *v;
	json_error_t jerr;
	int r;

	if (access(g->o->state_file, F_OK) != 0)
		return 0;
	if ((r = bw_file_read(g->o->state_file, (size_t)1 << 22, &data, &len, err)) != 0)
		return r;
	arr = json_loadb((const char *)data, len, 0, &jerr);
	free(data);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return bw_err_set(err, BW_ECORRUPT, "%s: not the guard's session list", g->o->state_file);
	}
	json_array_foreach(arr, i, v) {
		json_int_t s = json_integer_value(json_object_get(v, "session"));
		json_int_t u = json_integer_value(json_object_get(v, "loginuid"));
		json_int_t dl = json_integer_value(json_object_get(v, "deadline"));
		if (g->n < GUARD_MAX_SESSIONS && s > 0 && s < (json_int_t)NO_SESSION && u >= 0 && dl > 0) {
			g->s[g->n].session = (uint32_t)s;
			g->s[g->n].loginuid = (uint32_t)u;
			g->s[g->n].deadline = dl;
			g->s[g->n].term_at = 0;
			g->n++;
		}
	}
	json_decref(arr);
	return 0;
}

int
agent_guard_parse_request(const char *buf, size_t len, uint64_t *deadline)
{
	size_t n;

	*deadline = 0;
	/* "begin " DIGITS "\n", nothing else: the deadline in seconds since the epoch. */
	if (len < 8 || len > 40 || memcmp(buf, "begin ", 6) != 0 || buf[len - 1] != '\n')
		return BW_EINVAL;
	n = len - 7;
	if (memchr(buf + 6, '\n', n) != NULL || bw_parse_u64(buf + 6, n, deadline) != 0 || *deadline > INT64_MAX) {
		*deadline = 0;
		return BW_EINVAL;
	}
	return 0;
}

/*
 * Handles one registration: "begin DEADLINE\n" from a process of the session
 * it registers. False when no connection was waiting.
 */
static bool
guard_accept(struct guard *g, int lfd, int64_t now)
{
	char buf[64], reply[200], pid[24];
	struct ucred cred;
	socklen_t clen = sizeof cred;
	uint32_t sid = NO_SESSION, uid = NO_SESSION;
	uint64_t deadline = 0;
	ssize_t k;
	size_t i;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return false;
	{
		/* A client that says nothing holds the guard for at most this long. */
		struct timeval tv = { 0, GUARD_READ_MS * 1000 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	}
	k = read(fd, buf, sizeof buf - 1);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || k <= 0 ||
	    agent_guard_parse_request(buf, (size_t)k, &deadline) != 0) {
		snprintf(reply, sizeof reply, "refused: malformed request (want \"begin DEADLINE\\n\")\n");
		goto out;
	}
	snprintf(pid, sizeof pid, "%d", (int)cred.pid);
	if (!proc_u32(pid, "sessionid", &sid) || sid == NO_SESSION || !proc_u32(pid, "loginuid", &uid)) {
		snprintf(reply, sizeof reply, "refused: no audit session (sshd needs UsePAM yes with pam_loginuid)\n");
		goto out;
	}
	if ((int64_t)deadline <= now || (int64_t)deadline > now + GUARD_MAX_WINDOW) {
		snprintf(reply, sizeof reply, "refused: deadline %llu is not within the next 7 days\n",
			 (unsigned long long)deadline);
		goto out;
	}
	for (i = 0; i < g->n; i++) {
		if (g->s[i].session == sid) {
			/* The wrapper registers first, before any of the session's own code runs: later ones are not it. */
			snprintf(reply, sizeof reply, "refused: session %u is registered already\n", sid);
			guard_action(g, "session.begin", uid, sid, false,
				     "registered again (pid %d, until %llu): refused, the first deadline stays", (int)cred.pid,
				     (unsigned long long)deadline);
			goto out;
		}
	}
	if (g->n == GUARD_MAX_SESSIONS) {
		snprintf(reply, sizeof reply, "refused: too many sessions\n");
		goto out;
	}
	g->s[g->n++] = (struct guarded){ .session = sid, .loginuid = uid, .deadline = (int64_t)deadline };
	if (guard_save(g, &(struct bw_err){ 0 }) != 0) {
		g->n--;
		snprintf(reply, sizeof reply, "refused: the guard cannot record the session\n");
		goto out;
	}
	fprintf(g->log, "guard: session %u (login uid %u, pid %d) until %llu\n", sid, uid, (int)cred.pid,
		(unsigned long long)deadline);
	guard_action(g, "session.begin", uid, sid, true, "pid %d, until %llu", (int)cred.pid,
		     (unsigned long long)deadline);
	fflush(g->log);
	snprintf(reply, sizeof reply, "ok %u\n", sid);
out:
	/* MSG_NOSIGNAL: a client that hung up must not kill the guard with SIGPIPE. */
	if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0) {
		/* the client is gone: nothing to tell */
	}
	close(fd);
	return true;
}

/* Ends the sessions whose window is over; forgets the ones with no process left. */
static void
guard_sweep(struct guard *g, int64_t now)
{
	size_t i = 0;
	bool changed = false;

	while (i < g->n) {
		struct guarded *s = &g->s[i];
		if (now >= s->deadline && s->term_at == 0) {
			size_t n = signal_session(s->session, SIGTERM);
			s->term_at = now;
			fprintf(g->log, "guard: session %u window over: SIGTERM to %zu processes\n", s->session, n);
			guard_action(g, "session.terminate", s->loginuid, s->session, true,
				     "window over at %lld: SIGTERM to %zu processes", (long long)s->deadline, n);
		} else if (s->term_at != 0 && now - s->term_at >= GUARD_GRACE_SECS) {
			size_t n = kill_session(s->session);
			if (n > 0) {
				fprintf(g->log, "guard: session %u: SIGKILL to %zu processes\n", s->session, n);
				guard_action(g, "session.kill", s->loginuid, s->session, true,
					     "SIGKILL to %zu processes that outlived SIGTERM", n);
			}
		}
		if (!session_alive(s->session)) {
			/* Ended (or logged out before the window's end): nothing left to guard. */
			if (s->term_at != 0)
				fprintf(g->log, "guard: session %u ended\n", s->session);
			guard_action(g, "session.end", s->loginuid, s->session, true, "%s",
				     s->term_at != 0 ? "ended by the guard at its window's end"
						     : "ended before its window's end");
			g->s[i] = g->s[--g->n];
			changed = true;
			continue;
		}
		i++;
	}
	fflush(g->log);
	if (changed)
		guard_save(g, &(struct bw_err){ 0 });
}

int
agent_guard_run(const struct agent_guard_opts *o, int stop_fd, FILE *log, struct bw_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct guard *g = calloc(1, sizeof *g);
	int lfd = -1, r;

	if (g == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	g->o = o;
	g->log = log;
	if (strlen(o->socket_path) >= sizeof sa.sun_path) {
		r = bw_err_set(err, BW_EINVAL, "socket path too long");
		goto out;
	}
	if ((r = guard_load(g, err)) != 0)
		goto out;
	strcpy(sa.sun_path, o->socket_path);
	unlink(o->socket_path);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(o->socket_path, 0666) != 0 ||
	    listen(lfd, 64) != 0) {
		r = bw_err_set(err, BW_EIO, "%s: %s", o->socket_path, strerror(errno));
		goto out;
	}
	fprintf(log, "guard: listening on %s, %zu sessions carried over\n", o->socket_path, g->n);
	fflush(log);
	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };
		int64_t now;
		if (poll(p, stop_fd >= 0 ? 2 : 1, 500) < 0 && errno != EINTR) {
			r = bw_err_set(err, BW_EIO, "poll: %s", strerror(errno));
			break;
		}
		now = bw_now_ms() / 1000;
		if (p[0].revents & POLLIN) {
			/* A bounded number per round, so that clients flooding the socket cannot delay the sweep. */
			for (int k = 0; k < GUARD_ACCEPTS_PER_TICK && guard_accept(g, lfd, now); k++)
				;
		}
		guard_sweep(g, bw_now_ms() / 1000);
		if (stop_fd >= 0 && (p[1].revents & POLLIN))
			break;
	}
	unlink(o->socket_path);
out:
	if (lfd >= 0)
		close(lfd);
	free(g);
	return r;
}

int
agent_session_begin(const char *socket_path, int64_t deadline, char *reply, size_t cap, struct bw_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[48];
	ssize_t k;
	size_t got = 0;
	int fd, r = 0;

	reply[0] = '\0';
	if (strlen(socket_path) >= sizeof sa.sun_path)
		return bw_err_set(err, BW_EINVAL, "socket path too long");
	strcpy(sa.sun_path, socket_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		r = bw_err_set(err, BW_EIO, "the session guard is not running (%s: %s)", socket_path, strerror(errno));
		goto out;
	}
	snprintf(msg, sizeof msg, "begin %lld\n", (long long)deadline);
	if (write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
		r = bw_err_set(err, BW_EIO, "the session guard: %s", strerror(errno));
		goto out;
	}
	while (got + 1 < cap && (k = read(fd, reply + got, cap - 1 - got)) > 0)
		got += (size_t)k;
	reply[got] = '\0';
	reply[strcspn(reply, "\n")] = '\0';
	if (strncmp(reply, "ok ", 3) != 0)
		r = bw_err_set(err, BW_EDENIED, "the session guard %s", reply[0] ? reply : "did not answer");
out:
	if (fd >= 0)
		close(fd);
	return r;
}
