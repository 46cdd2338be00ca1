/*
 * agent/broker.c: privilege separation for `agent run --user USER`. The
 * agent starts as root, forks this small helper, and drops to USER for
 * everything else: parsing what hosts write into their logs, the spool,
 * the network. The helper keeps root for one job: opening the source files
 * the agent was started with (and their first rotation, PATH.1) read-only
 * and handing the descriptors over (SCM_RIGHTS), and telling their device,
 * inode and size, across rotation. It opens nothing else, whatever it is
 * asked, and ends when the agent does.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_internal.h"
#include "hostev/hostev.h"

#define OP_OPEN 'O'
#define OP_STAT 'S'
#define OP_FIM 'F'		/* + one byte: save the baseline first (1) or not (0); then poll */
#define OP_FIM_SAVE 'V'		/* save the baseline only */
#define MSG_EVENT 'E'		/* + one event, as a one-event batch's JSON */
#define MSG_FIM_DONE 'Z'	/* + struct fim_done */
#define MSG_MAX ((size_t)160 << 10)

struct fim_done {
	int32_t rc;		/* 0, or the poll's or save's error code */
	uint64_t changes, errors;
	char error[256];	/* fim's last error ("": none), or rc's message */
};

struct broker_reply {
	int32_t errnum;		/* 0, or why the open or stat failed */
	uint32_t mode;
	uint64_t dev, ino, size;
};

static bool
allowed(char *const *paths, size_t n, const char *path)
{
	size_t i, len;

	for (i = 0; i < n; i++) {
		len = strlen(paths[i]);
		if (strcmp(paths[i], path) == 0 ||
		    (strncmp(paths[i], path, len) == 0 && strcmp(path + len, ".1") == 0))
			return true;
	}
	return false;
}

ssize_t
agent_send_with_fd(int sock, const void *msg, size_t len, int fd)
{
	struct iovec iov = { (void *)(uintptr_t)msg, len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof u);
		m.msg_control = u.buf;
		m.msg_controllen = sizeof u.buf;
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL);
}

static void
reply_send(int sock, const struct broker_reply *rep, int fd)
{
	(void)agent_send_with_fd(sock, rep, sizeof *rep, fd);
}

struct fim_send {
	int sock;
	uint64_t n;
};

/* A change fim found, to the agent as a one-event batch (its parser reads it strictly). */
static int
send_event(void *ctx, struct hostev_event *ev)
{
	struct fim_send *fs = ctx;
	struct hostev_batch b = { .seq = 1, .events = ev, .n = 1 };
	struct bw_err err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int r = 0;

	memset(b.epoch, '0', HOSTEV_EPOCH_HEX);
	if (hostev_batch_format(&b, &text, &len, &err) != 0 || len + 1 > MSG_MAX) {
		r = err.code ? err.code : BW_ERANGE;
	} else {
		{
			struct iovec iov[2] = { { (void *)"E", 1 }, { text, len } };
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
			if (sendmsg(fs->sock, &m, MSG_NOSIGNAL) != (ssize_t)(len + 1))
				r = BW_EIO;
		}
		fs->n++;
	}
	free(text);
	hostev_event_clear(ev);
	return r;
}

/* OP_FIM / OP_FIM_SAVE: save and/or poll, each change sent, then MSG_FIM_DONE. */
static void
helper_fim(int sock, struct fim *f, bool save, bool poll_too)
{
	struct fim_done d;
	struct bw_err err = { 0 };
	struct fim_send fs = { sock, 0 };
	size_t changes = 0;
	char msg[1 + sizeof d];

	memset(&d, 0, sizeof d);

	if (f == NULL) {
		d.rc = BW_EINVAL;
		snprintf(d.error, sizeof d.error, "no file integrity in this helper");
	} else {
		if (save && (d.rc = fim_save(f, &err)) != 0)
			snprintf(d.error, sizeof d.error, "the baseline was not saved: %.200s", err.msg);
		if (d.rc == 0 && poll_too && (d.rc = fim_poll(f, bw_now_ms(), send_event, &fs, &changes, &err)) != 0)
			snprintf(d.error, sizeof d.error, "%.250s", err.msg);
		if (d.rc == 0)
			snprintf(d.error, sizeof d.error, "%.250s", fim_error(f, &d.errors));
	}
	d.changes = fs.n;
	msg[0] = MSG_FIM_DONE;
	memcpy(msg + 1, &d, sizeof d);
	(void)send(sock, msg, sizeof msg, MSG_NOSIGNAL);
}

/* The helper: answers until the agent closes its end; never returns. */
static void __attribute__((noreturn))
helper_main(int sock, char *const *paths, size_t n, const struct broker_fim *bf)
{
	char req[1100];
	struct fim *f = NULL;
	struct bw_err ferr = { 0 };

	if (bf != NULL && fim_open(bf->roots, bf->nroots, bf->state_path, bf->scan_secs, &f, &ferr) != 0)
		f = NULL;	/* the agent's first OP_FIM hears of it */

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);	/* the agent is gone already */
	for (;;) {
		ssize_t k = recv(sock, req, sizeof req - 1, 0);
		struct broker_reply rep;
		struct stat st;
		int fd = -1;

		memset(&rep, 0, sizeof rep);

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			_exit(0);
		}
		req[k] = '\0';
		if ((req[0] == OP_FIM && k == 2) || (req[0] == OP_FIM_SAVE && k == 1)) {
			if (f == NULL && bf != NULL && ferr.msg[0]) {
				struct fim_done d;
				char msg[1 + sizeof d];
				memset(&d, 0, sizeof d);
				d.rc = ferr.code;
				snprintf(d.error, sizeof d.error, "%.250s", ferr.msg);
				msg[0] = MSG_FIM_DONE;
				memcpy(msg + 1, &d, sizeof d);
				(void)send(sock, msg, sizeof msg, MSG_NOSIGNAL);
				continue;
			}
			helper_fim(sock, f, req[0] == OP_FIM_SAVE || req[1] == 1, req[0] == OP_FIM);
			continue;
		}
		if (k < 2 || (req[0] != OP_OPEN && req[0] != OP_STAT) || memchr(req, '\0', (size_t)k) != NULL ||
		    !allowed(paths, n, req + 1)) {
			rep.errnum = EPERM;	/* not a source this agent was started with */
		} else if (req[0] == OP_STAT) {
			rep.errnum = stat(req + 1, &st) == 0 ? 0 : errno;
		} else if ((fd = open(req + 1, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK)) < 0) {
			rep.errnum = errno;
		} else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			rep.errnum = EINVAL;	/* only regular files */
			close(fd);
			fd = -1;
		}
		if (rep.errnum == 0) {
			rep.mode = (uint32_t)st.st_mode;
			rep.dev = (uint64_t)st.st_dev;
			rep.ino = (uint64_t)st.st_ino;
			rep.size = (uint64_t)st.st_size;
		}
		reply_send(sock, &rep, fd);
		if (fd >= 0)
			close(fd);
	}
}

int
broker_start(char *const *paths, size_t n, const struct broker_fim *fim, struct broker *b, struct bw_err *err)
{
	int sv[2];
	pid_t pid;

	b->sock = -1;
	b->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return bw_err_set(err, BW_EIO, "socketpair: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return bw_err_set(err, BW_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1], paths, n, fim);
	}
	close(sv[1]);
	b->sock = sv[0];
	b->pid = pid;
	return 0;
}

/* One request and its reply (and descriptor); -1 with errno set on failure. */
static int
ask(struct broker *b, char op, const char *path, struct stat *st, int *fd)
{
	char req[1100];
	struct broker_reply rep;
	struct iovec iov = { &rep, sizeof rep };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c;
	size_t len = strlen(path);
	ssize_t k;

	if (fd != NULL)
		*fd = -1;
	if (len == 0 || len >= sizeof req - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	req[0] = op;
	memcpy(req + 1, path, len);
	if (send(b->sock, req, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1))
		return -1;
	do
		k = recvmsg(b->sock, &m, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	if (k != (ssize_t)sizeof rep) {
		errno = k == 0 ? EPIPE : EIO;	/* the helper is gone */
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof got);
			if (fd != NULL && rep.errnum == 0)
				*fd = got;
			else
				close(got);
		}
	if (rep.errnum != 0) {
		errno = rep.errnum;
		return -1;
	}
	if (fd != NULL && *fd < 0) {
		errno = EIO;
		return -1;
	}
	memset(st, 0, sizeof *st);
	st->st_mode = (mode_t)rep.mode;
	st->st_dev = (dev_t)rep.dev;
	st->st_ino = (ino_t)rep.ino;
	st->st_size = (off_t)rep.size;
	return 0;
}

int
broker_open(void *ctx, const char *path)
{
	struct stat st;
	int fd;

	return ask(ctx, OP_OPEN, path, &st, &fd) == 0 ? fd : -1;
}

int
broker_stat(void *ctx, const char *path, struct stat *st)
{
	return ask(ctx, OP_STAT, path, st, NULL);
}

/* Sends a file-integrity request and takes its events and the closing status. */
static int
fim_ask(struct broker *b, const char *req, size_t reqlen, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx,
	size_t *changes, char *error, size_t cap, struct bw_err *err)
{
	uint8_t *msg = malloc(MSG_MAX);
	struct fim_done d;
	int r = 0, cb_rc = 0;

	if (changes != NULL)
		*changes = 0;
	if (msg == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (send(b->sock, req, reqlen, MSG_NOSIGNAL) != (ssize_t)reqlen) {
		free(msg);
		return bw_err_set(err, BW_EIO, "the root helper is gone: %s", strerror(errno));
	}
	for (;;) {
		ssize_t k;
		do
			k = recv(b->sock, msg, MSG_MAX, 0);
		while (k < 0 && errno == EINTR);
		if (k <= 0) {
			r = bw_err_set(err, BW_EIO, "the root helper is gone");
			break;
		}
		if (msg[0] == MSG_FIM_DONE && (size_t)k == 1 + sizeof d) {
			memcpy(&d, msg + 1, sizeof d);
			d.error[sizeof d.error - 1] = '\0';
			if (error != NULL)
				snprintf(error, cap, "%s", d.error);
			if (d.rc != 0)
				r = bw_err_set(err, d.rc, "file integrity: %s", d.error);
			break;
		}
		if (msg[0] == MSG_EVENT) {
			struct hostev_batch bt;
			struct bw_err perr = { 0 };
			if (hostev_batch_parse(msg + 1, (size_t)k - 1, &bt, &perr) != 0 || bt.n != 1) {
				hostev_batch_clear(&bt);
				r = bw_err_set(err, BW_ECORRUPT, "the root helper sent a malformed event: %s", perr.msg);
				continue;	/* read on to its end */
			}
			if (cb_rc == 0 && r == 0) {
				cb_rc = fn(ctx, &bt.events[0]);	/* takes the event's contents */
				if (changes != NULL)
					(*changes)++;
			}
			hostev_batch_clear(&bt);
			continue;
		}
		r = bw_err_set(err, BW_ECORRUPT, "the root helper sent an unknown message");
	}
	free(msg);
	if (r == 0 && cb_rc != 0)
		r = cb_rc;
	return r;
}

int
broker_fim_poll(struct broker *b, bool save_first, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx,
		size_t *changes, char *error, size_t cap, struct bw_err *err)
{
	char req[2] = { OP_FIM, save_first ? 1 : 0 };

	return fim_ask(b, req, 2, fn, ctx, changes, error, cap, err);
}

int
broker_fim_save(struct broker *b, struct bw_err *err)
{
	char req[1] = { OP_FIM_SAVE };

	return fim_ask(b, req, 1, NULL, NULL, NULL, NULL, 0, err);
}

void
broker_stop(struct broker *b)
{
	if (b->sock >= 0)
		close(b->sock);
	if (b->pid > 0)
		waitpid(b->pid, NULL, 0);
	b->sock = -1;
	b->pid = -1;
}

int
agent_drop_to(const char *user, uid_t *uid_out, gid_t *gid_out, struct bw_err *err)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL)
		return bw_err_set(err, BW_ENOTFOUND, "--user: no user '%.64s'", user);
	if (pw->pw_uid == 0)
		return bw_err_set(err, BW_EINVAL, "--user: '%.64s' is root; name an unprivileged user", user);
	if (uid_out != NULL)
		*uid_out = pw->pw_uid;
	if (gid_out != NULL)
		*gid_out = pw->pw_gid;
	return 0;
}

int
agent_setuid(const char *user, struct bw_err *err)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL || pw->pw_uid == 0)
		return bw_err_set(err, BW_EINVAL, "--user: no unprivileged user '%.64s'", user);
	/* its groups (e.g. systemd-journal or adm for the journal and syslog files), then its ids, for good */
	if (initgroups(user, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
		return bw_err_set(err, BW_EIO, "--user %.64s: cannot switch to it: %s", user, strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
		return bw_err_set(err, BW_EIO, "--user %.64s: root could be regained; stopping", user);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return bw_err_set(err, BW_EIO, "no_new_privs: %s", strerror(errno));
	return 0;
}
