/*
 * triage/zygote.c: the process that forks triage workers for a
 * multi-threaded caller. Started while the caller has a single thread, it
 * is single-threaded itself, so its forks are safe; it holds the engine
 * (libmagic's database, the compiled YARA rules) and nothing else of the
 * caller's that came later (the server starts it before it opens its data
 * directory: no keys). Requests and answers are length-prefixed on a
 * socketpair: name length (u32), sample length (u64), name, sample; the
 * answer is the result's JSON length (u32) and text.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "triage_internal.h"

#define NAME_MAX_LEN 4096
#define SAMPLE_MAX ((uint64_t)1 << 30)
#define ANSWER_MAX ((uint32_t)16 << 20)

struct triage_zygote {
	int fd;
	pid_t pid;
	pthread_mutex_t mu;
	bool dead;
};

static void __attribute__((noreturn))
zygote_main(struct triage *t, const struct triage_sandbox *sb, int fd)
{
	signal(SIGINT, SIG_IGN);	/* the caller's Ctrl-C stops the caller; the zygote follows it (EOF) */
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NAME, "bulwark-triage", 0, 0, 0);
	for (;;) {
		uint32_t nlen, alen;
		uint64_t dlen;
		char *name = NULL, *text = NULL;
		uint8_t *data = NULL;
		json_t *res = NULL;
		struct bw_err err = { 0 };
		if (bw_read_all(fd, &nlen, sizeof nlen) != 0 || bw_read_all(fd, &dlen, sizeof dlen) != 0 || nlen > NAME_MAX_LEN ||
		    dlen > SAMPLE_MAX || (name = calloc(1, nlen + 1)) == NULL || (data = malloc(dlen ? dlen : 1)) == NULL ||
		    bw_read_all(fd, name, nlen) != 0 || bw_read_all(fd, data, dlen) != 0)
			_exit(0);	/* the caller closed (or sent nonsense): done */
		if (triage_scan_isolated(t, sb, name, data, dlen, &res, &err) != 0)
			res = triage_failed("%s", err.msg);
		text = res != NULL ? json_dumps(res, JSON_COMPACT) : NULL;
		alen = text != NULL ? (uint32_t)strlen(text) : 0;
		if (bw_send_all(fd, &alen, sizeof alen) != 0 || (alen > 0 && bw_send_all(fd, text, alen) != 0))
			_exit(0);
		free(text);
		json_decref(res);
		free(name);
		free(data);
	}
}

int
triage_zygote_start(struct triage *t, const struct triage_sandbox *sb, struct triage_zygote **out, struct bw_err *err)
{
	struct triage_zygote *z = calloc(1, sizeof *z);
	int sv[2];

	*out = NULL;
	if (z == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(z);
		return bw_err_set(err, BW_EIO, "socketpair: %s", strerror(errno));
	}
	if ((z->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		free(z);
		return bw_err_set(err, BW_EIO, "fork: %s", strerror(errno));
	}
	if (z->pid == 0) {
		close(sv[0]);
		zygote_main(t, sb, sv[1]);
	}
	close(sv[1]);
	z->fd = sv[0];
	pthread_mutex_init(&z->mu, NULL);
	*out = z;
	return 0;
}

int
triage_zygote_scan(struct triage_zygote *z, const char *name, const uint8_t *data, size_t len, json_t **result,
		   struct bw_err *err)
{
	uint32_t nlen = (uint32_t)strlen(name != NULL ? name : ""), alen = 0;
	uint64_t dlen = len;
	char *text = NULL;
	json_error_t jerr;
	int r = 0;

	*result = NULL;
	if (nlen > NAME_MAX_LEN || dlen > SAMPLE_MAX)
		return bw_err_set(err, BW_EINVAL, "sample or name too large");
	pthread_mutex_lock(&z->mu);
	if (z->dead || bw_send_all(z->fd, &nlen, sizeof nlen) != 0 || bw_send_all(z->fd, &dlen, sizeof dlen) != 0 ||
	    bw_send_all(z->fd, name != NULL ? name : "", nlen) != 0 || bw_send_all(z->fd, data, len) != 0 ||
	    bw_read_all(z->fd, &alen, sizeof alen) != 0 || alen == 0 || alen > ANSWER_MAX ||
	    (text = malloc(alen + 1)) == NULL || bw_read_all(z->fd, text, alen) != 0) {
		z->dead = true;
		r = bw_err_set(err, BW_EIO, "the triage zygote is gone");
	}
	pthread_mutex_unlock(&z->mu);
	if (r == 0) {
		text[alen] = '\0';
		if ((*result = json_loads(text, 0, &jerr)) == NULL)
			r = bw_err_set(err, BW_EIO, "the triage zygote answered no JSON: %.200s", jerr.text);
	}
	free(text);
	return r;
}

void
triage_zygote_cancel(struct triage_zygote *z)
{
	if (z != NULL)
		shutdown(z->fd, SHUT_RDWR);
}

void
triage_zygote_stop(struct triage_zygote *z)
{
	if (z == NULL)
		return;
	close(z->fd);	/* EOF: an idle zygote exits; one in the middle of a scan is stopped with its worker */
	kill(z->pid, SIGKILL);
	while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_destroy(&z->mu);
	free(z);
}
