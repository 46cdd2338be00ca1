/*
 * agent/net.c: privilege separation for `agent update --user USER`. The
 * update stays root: it checks every signature, hash and log proof and
 * installs. Talking to the network (TLS, HTTP, whatever a server or a
 * hijacked mirror sends) happens in a child that is USER: it fetches
 * bounded bodies, writes a target's download into a descriptor root opened
 * (and root hashes the file itself afterwards: the child's word is never
 * taken), and posts reports. Requests and replies are framed on a stream
 * socket; the child ends when root closes it.
 */
#define _GNU_SOURCE	/* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_internal.h"
#include "crypto/crypto.h"

enum { NET_GET = 1, NET_GET_FILE = 2, NET_POST = 3 };
#define NET_BODY_MAX ((uint64_t)256 << 20)

struct net_req {
	uint8_t op, which;	/* which: 0 the repository, 1 the report server */
	uint64_t max;
	uint32_t path_len, body_len;
};

struct net_rep {
	int32_t rc;
	int32_t status;		/* NET_POST: the HTTP status */
	uint64_t len;		/* NET_GET_FILE: bytes written; NET_GET, NET_POST: body bytes following */
	char msg[256];
};

struct agent_net {
	int sock;
	pid_t pid;
};

/* The child's side of one request (fd: the download's, for NET_GET_FILE). */
static void
serve_one(int sock, const struct agent_http *http, const struct net_req *q, const char *path, const char *body, int fd)
{
	struct net_rep rep;
	struct bw_buf out = { 0 };
	struct bw_err err = { 0 };
	uint8_t sha[32];
	long status = 0;

	memset(&rep, 0, sizeof rep);
	if (q->op == NET_GET) {
		rep.rc = agent_http_get(&http[q->which], path, q->max, &out, &err);
		rep.len = rep.rc == 0 ? out.len : 0;
	} else if (q->op == NET_GET_FILE) {
		rep.rc = agent_http_get_file(&http[q->which], path, q->max, fd, sha, &rep.len, &err);
	} else {
		rep.rc = agent_http_post_text(&http[q->which], path, body, q->body_len, &status, &out, &err);
		rep.status = (int32_t)status;
		rep.len = rep.rc == 0 ? out.len : 0;
	}
	snprintf(rep.msg, sizeof rep.msg, "%.250s", err.msg);
	if (bw_send_all(sock, &rep, sizeof rep) != 0 ||
	    (rep.len > 0 && q->op != NET_GET_FILE && bw_send_all(sock, out.data, out.len) != 0))
		_exit(0);
	bw_buf_free(&out);
}

static void __attribute__((noreturn))
child_main(int sock, const struct agent_http *http)
{
	for (;;) {
		struct net_req q;
		struct iovec iov = { &q, sizeof q };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				    .msg_controllen = sizeof u.buf };
		struct cmsghdr *c;
		char *path = NULL, *body = NULL;
		int fd = -1;
		ssize_t k;

		do
			k = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
		while (k < 0 && errno == EINTR);
		if (k != (ssize_t)sizeof q)
			_exit(0);	/* root closed its end */
		for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(&fd, CMSG_DATA(c), sizeof fd);
		if (q.which > 1 || q.path_len == 0 || q.path_len > 8192 || q.body_len > (1u << 24) ||
		    (path = calloc(1, q.path_len + 1)) == NULL || (body = calloc(1, q.body_len + 1)) == NULL ||
		    bw_read_all(sock, path, q.path_len) != 0 || bw_read_all(sock, body, q.body_len) != 0 ||
		    (q.op == NET_GET_FILE) != (fd >= 0))
			_exit(1);
		serve_one(sock, http, &q, path, body, fd);
		if (fd >= 0)
			close(fd);
		free(path);
		free(body);
	}
}

int
agent_net_start(const struct agent_http http[2], const char *user, struct agent_net **out, struct bw_err *err)
{
	struct agent_net *n = calloc(1, sizeof *n);
	int sv[2], r;

	*out = NULL;
	if (n == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((r = agent_drop_to(user, NULL, NULL, err)) != 0) {
		free(n);
		return r;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(n);
		return bw_err_set(err, BW_EIO, "socketpair: %s", strerror(errno));
	}
	fflush(NULL);
	if ((n->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(n);
		return bw_err_set(err, BW_EIO, "fork: %s", strerror(errno));
	}
	if (n->pid == 0) {
		struct bw_err e = { 0 };
		close(sv[0]);
		if (agent_setuid(user, &e) != 0) {
			fprintf(stderr, "agent update: %s\n", e.msg);
			_exit(1);
		}
		child_main(sv[1], http);
	}
	close(sv[1]);
	n->sock = sv[0];
	*out = n;
	return 0;
}

void
agent_net_stop(struct agent_net *n)
{
	if (n == NULL)
		return;
	close(n->sock);
	waitpid(n->pid, NULL, 0);
	free(n);
}

/* Sends a request (with fd for a download) and reads the reply head. */
static int
ask(struct agent_net *n, uint8_t op, int which, const char *path, uint64_t max, const char *body, size_t body_len,
    int fd, struct net_rep *rep, struct bw_err *err)
{
	struct net_req q;

	memset(&q, 0, sizeof q);	/* padding too: nothing of root's stack goes to the child */
	q.op = op;
	q.which = (uint8_t)which;
	q.max = max;
	q.path_len = (uint32_t)strlen(path);
	q.body_len = (uint32_t)body_len;

	if (agent_send_with_fd(n->sock, &q, sizeof q, fd) != (ssize_t)sizeof q ||
	    bw_send_all(n->sock, path, q.path_len) != 0 ||
	    (body_len > 0 && bw_send_all(n->sock, body, body_len) != 0) || bw_read_all(n->sock, rep, sizeof *rep) != 0)
		return bw_err_set(err, BW_EIO, "the network helper is gone");
	rep->msg[sizeof rep->msg - 1] = '\0';
	if (rep->rc != 0)
		return bw_err_set(err, rep->rc, "%s", rep->msg[0] ? rep->msg : "network helper failed");
	return 0;
}

/* A body the child sends after its reply: at most max bytes, never trusted further than that. */
static int
take_body(struct agent_net *n, uint64_t len, uint64_t max, struct bw_buf *out, struct bw_err *err)
{
	if (len > max || len > NET_BODY_MAX)
		return bw_err_set(err, BW_ERANGE, "the network helper sent more than allowed");
	if (bw_buf_reserve(out, (size_t)len) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (bw_read_all(n->sock, out->data + out->len, (size_t)len) != 0)
		return bw_err_set(err, BW_EIO, "the network helper is gone");
	out->len += (size_t)len;
	return 0;
}

int
agent_net_get(struct agent_net *n, const struct agent_http *h, int which, const char *path, uint64_t max,
	      struct bw_buf *out, struct bw_err *err)
{
	struct net_rep rep;
	int r;

	if (n == NULL)
		return agent_http_get(h, path, max, out, err);
	if ((r = ask(n, NET_GET, which, path, max, NULL, 0, -1, &rep, err)) != 0)
		return r;
	return take_body(n, rep.len, max, out, err);
}

int
agent_net_get_file(struct agent_net *n, const struct agent_http *h, int which, const char *path, uint64_t max, int fd,
		   uint8_t sha256[32], uint64_t *len, struct bw_err *err)
{
	struct net_rep rep;
	struct bw_sha256 *s = NULL;
	uint8_t buf[65536];
	uint64_t off = 0;
	int stage, r;

	if (n == NULL)
		return agent_http_get_file(h, path, max, fd, sha256, len, err);
	*len = 0;
	/*
	 * The child downloads into a nameless staging file; root then copies it into fd while hashing: what
	 * is checked and installed is root's copy, which the child (that may keep a descriptor of the
	 * staging file) cannot touch.
	 */
	if ((stage = open("/var/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0 &&
	    (stage = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0)
		return bw_err_set(err, BW_EIO, "no staging file for the download: %s", strerror(errno));
	if ((r = ask(n, NET_GET_FILE, which, path, max, NULL, 0, stage, &rep, err)) != 0 ||
	    (r = bw_sha256_new(&s, err)) != 0) {
		close(stage);
		return r;
	}
	bw_sha256_init(s);
	for (;;) {
		ssize_t k = pread(stage, buf, sizeof buf, (off_t)off);
		if (k < 0) {
			r = bw_err_set(err, BW_EIO, "the staged download: %s", strerror(errno));
			break;
		}
		if (k == 0)
			break;
		if (off + (uint64_t)k > max) {
			r = bw_err_set(err, BW_ERANGE, "the download is longer than %llu bytes", (unsigned long long)max);
			break;
		}
		if (bw_write_all(fd, buf, (size_t)k) != 0) {
			r = bw_err_set(err, BW_EIO, "writing the download: %s", strerror(errno));
			break;
		}
		bw_sha256_update(s, buf, (size_t)k);
		off += (uint64_t)k;
	}
	close(stage);
	if (r == 0) {
		bw_sha256_final(s, sha256);
		*len = off;
	}
	bw_sha256_free(s);
	return r;
}

int
agent_net_post_json(struct agent_net *n, const struct agent_http *h, int which, const char *path, const json_t *body,
		    long *status, struct bw_err *err)
{
	struct net_rep rep;
	struct bw_buf sink = { 0 };
	char *text;
	int r;

	if (n == NULL)
		return agent_http_post_json(h, path, body, status, NULL, err);
	*status = 0;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	r = ask(n, NET_POST, which, path, 0, text, strlen(text), -1, &rep, err);
	free(text);
	if (r != 0)
		return r;
	*status = rep.status;
	r = take_body(n, rep.len, 1 << 20, &sink, err);	/* read and dropped: nobody asked for it */
	bw_buf_free(&sink);
	return r;
}
