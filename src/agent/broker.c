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

#define OP_OPEN 'O'
#define OP_STAT 'S'

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

static void
reply_send(int sock, const struct broker_reply *rep, int fd)
{
	struct iovec iov = { (void *)rep, sizeof *rep };
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
	(void)sendmsg(sock, &m, MSG_NOSIGNAL);
}

/* The helper: answers until the agent closes its end; never returns. */
static void __attribute__((noreturn))
helper_main(int sock, char *const *paths, size_t n)
{
	char req[1100];

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		_exit(0);	/* the agent is gone already */
	for (;;) {
		ssize_t k = recv(sock, req, sizeof req - 1, 0);
		struct broker_reply rep = { 0 };
		struct stat st;
		int fd = -1;

		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			_exit(0);
		}
		req[k] = '\0';
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
broker_start(char *const *paths, size_t n, struct broker *b, struct bw_err *err)
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
		helper_main(sv[1], paths, n);
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
