/*
 * triage/zygote.c: the process that forks triage workers for a
 * multi-threaded caller. Started while the caller has a single thread, it
 * is single-threaded itself, so its forks are safe; it holds the engine
 * (libmagic's database, the compiled YARA rules) and nothing else of the
 * caller's that came later (the server starts it before it opens its data
 * directory: no keys). Requests and answers are length-prefixed on a
 * socketpair: name length (u32), sample length (u64), name, sample; the
 * answer is the result's JSON length (u32) and text.
 *
 * A zygote that dies (killed, out of memory) is started again at the next
 * scan when the caller gave the command that runs one: a threaded process
 * must not fork a copy of itself, but it may start a new program
 * (posix_spawn of /proc/self/exe, that command, the socket as fd 3 and an
 * environment without the caller's secrets), which loads the engine afresh.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
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
	atomic_bool cancelled;		/* set by triage_zygote_cancel from another thread: no restart after it */
	char **respawn;			/* the command that runs a zygote on fd 3 (NULL: none; owned) */
	size_t restarts;
};

extern char **environ;

void __attribute__((noreturn))
triage_zygote_main(struct triage *t, const struct triage_sandbox *sb, int fd)
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

/* The variables a respawned zygote may see: locale, time zone, libmagic's database, sanitizer settings. */
static bool
env_kept(const char *v)
{
	static const char *const keep[] = { "PATH=", "LANG=", "LC_", "TZ=", "MAGIC=", "ASAN_OPTIONS=", "UBSAN_OPTIONS=",
					    "LSAN_OPTIONS=" };
	size_t i;

	for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (strncmp(v, keep[i], strlen(keep[i])) == 0)
			return true;
	return false;
}

/* Starts a fresh zygote program for z (the caller holds z->mu); the old one, if any, is killed and reaped. */
static int
respawn(struct triage_zygote *z, struct bw_err *err)
{
	posix_spawn_file_actions_t fa;
	char *env[32];
	size_t ne = 0, i;
	int sv[2], child, r;

	if (z->pid > 0) {
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
			;
		z->pid = -1;
	}
	if (z->fd >= 0)
		close(z->fd);
	z->fd = -1;
	for (i = 0; environ != NULL && environ[i] != NULL && ne < 31; i++)
		if (env_kept(environ[i]))
			env[ne++] = environ[i];
	env[ne] = NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return bw_err_set(err, BW_EIO, "socketpair: %s", strerror(errno));
	/* the child's end becomes fd 3 (dup2 clears close-on-exec; an end that is 3 already is moved first) */
	child = sv[1] == 3 ? fcntl(sv[1], F_DUPFD_CLOEXEC, 4) : sv[1];
	if (child < 0) {
		close(sv[0]);
		close(sv[1]);
		return bw_err_set(err, BW_EIO, "fcntl: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, child, 3);
	r = posix_spawn(&z->pid, "/proc/self/exe", &fa, NULL, z->respawn, env);
	posix_spawn_file_actions_destroy(&fa);
	if (child != sv[1])
		close(child);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		z->pid = -1;
		return bw_err_set(err, BW_EIO, "the triage zygote could not be started again: %s", strerror(r));
	}
	z->fd = sv[0];
	z->dead = false;
	z->restarts++;
	return 0;
}

int
triage_zygote_restarts(struct triage_zygote *z)
{
	int n;

	pthread_mutex_lock(&z->mu);
	n = (int)z->restarts;
	pthread_mutex_unlock(&z->mu);
	return n;
}

int
triage_zygote_start(struct triage *t, const struct triage_sandbox *sb, const char *const *respawn_argv,
		    struct triage_zygote **out, struct bw_err *err)
{
	struct triage_zygote *z = calloc(1, sizeof *z);
	size_t n = 0, i;
	int sv[2];

	*out = NULL;
	if (z == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	while (respawn_argv != NULL && respawn_argv[n] != NULL)
		n++;
	if (n > 0) {
		if ((z->respawn = calloc(n + 1, sizeof *z->respawn)) == NULL) {
			free(z);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
		for (i = 0; i < n; i++)
			if ((z->respawn[i] = strdup(respawn_argv[i])) == NULL) {
				while (i-- > 0)
					free(z->respawn[i]);
				free(z->respawn);
				free(z);
				return bw_err_set(err, BW_ENOMEM, "out of memory");
			}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		free(z);
		return bw_err_set(err, BW_EIO, "socketpair: %s", strerror(errno));
	}
	if ((z->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		for (i = 0; i < n; i++)
			free(z->respawn[i]);
		free(z->respawn);
		free(z);
		return bw_err_set(err, BW_EIO, "fork: %s", strerror(errno));
	}
	if (z->pid == 0) {
		close(sv[0]);
		triage_zygote_main(t, sb, sv[1]);
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
	for (int attempt = 0;; attempt++) {
		if (z->dead && (z->respawn == NULL || z->cancelled)) {
			r = bw_err_set(err, BW_EIO, "the triage zygote is gone");
			break;
		}
		if (z->dead && respawn(z, err) != 0) {
			r = BW_EIO;
			break;
		}
		if (bw_send_all(z->fd, &nlen, sizeof nlen) == 0 && bw_send_all(z->fd, &dlen, sizeof dlen) == 0 &&
		    bw_send_all(z->fd, name != NULL ? name : "", nlen) == 0 && bw_send_all(z->fd, data, len) == 0 &&
		    bw_read_all(z->fd, &alen, sizeof alen) == 0 && alen > 0 && alen <= ANSWER_MAX &&
		    (text = malloc(alen + 1)) != NULL && bw_read_all(z->fd, text, alen) == 0)
			break;
		free(text);
		text = NULL;
		z->dead = true;
		if (attempt == 1 && z->respawn != NULL && !z->cancelled) {
			/* started again and gone again on this very sample: it fails, the queue goes on */
			*result = triage_failed("the triage zygote died twice while taking this sample");
			pthread_mutex_unlock(&z->mu);
			return *result != NULL ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
		}
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
	if (z == NULL)
		return;
	z->cancelled = true;	/* no restart after this */
	shutdown(z->fd, SHUT_RDWR);
}

void
triage_zygote_stop(struct triage_zygote *z)
{
	if (z == NULL)
		return;
	if (z->fd >= 0)
		close(z->fd);	/* EOF: an idle zygote exits; one in the middle of a scan is stopped with its worker */
	if (z->pid > 0) {
		kill(z->pid, SIGKILL);
		while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (size_t i = 0; z->respawn != NULL && z->respawn[i] != NULL; i++)
		free(z->respawn[i]);
	free(z->respawn);
	pthread_mutex_destroy(&z->mu);
	free(z);
}
