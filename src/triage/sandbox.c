/*
 * triage/sandbox.c: a sample's walk in a worker process. The worker is
 * forked from the caller (the engine, with libmagic's database, is loaded
 * already, and the sample is in its memory: nothing is sent to it), then,
 * before it touches the sample: every descriptor but its result pipe
 * closed, rlimits (CPU time, address space, no files written, no core
 * dumps), another user when started as root (nobody by default), no new
 * privileges, and a seccomp filter (libseccomp) that lets it compute and
 * write its result and nothing else: opening files fails, and a socket,
 * a program run or a new process kills it. The caller reads the result
 * (JSON) under a wall-clock timeout; a worker that dies, is killed, or
 * overruns a limit fails that one report with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "triage_internal.h"

#define RESULT_MAX ((size_t)16 << 20)

#if defined(__SANITIZE_ADDRESS__)
#define BW_TRIAGE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BW_TRIAGE_ASAN 1
#endif
#endif

/* The filter: compute and write; files fail to open; sockets, programs and new processes kill. */
static int
apply_seccomp(void)
{
	static const int allowed[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
		SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(brk), SCMP_SYS(madvise),
		SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
		SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex), SCMP_SYS(getrandom), SCMP_SYS(clock_gettime),
		SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep), SCMP_SYS(gettid), SCMP_SYS(getpid), SCMP_SYS(tgkill),
		SCMP_SYS(sched_yield), SCMP_SYS(getrusage), SCMP_SYS(prlimit64), SCMP_SYS(gettimeofday),
		SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(sched_getaffinity), SCMP_SYS(uname),
	};
	static const int killed[] = { SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(socket), SCMP_SYS(socketpair),
				      SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(ptrace), SCMP_SYS(fork), SCMP_SYS(vfork),
				      SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(process_vm_readv),
				      SCMP_SYS(process_vm_writev), SCMP_SYS(kill) };
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	size_t i;
	int r = 0;

	if (f == NULL)
		return -1;
	for (i = 0; r == 0 && i < sizeof allowed / sizeof allowed[0]; i++)
		r = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
	for (i = 0; r == 0 && i < sizeof killed / sizeof killed[0]; i++)
		r = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, killed[i], 0);
	/* opening a file is refused, not fatal: libraries that look for locale or charset files carry on */
	if (r == 0)
		r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	if (r == 0)
		r = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	if (r == 0)
		r = seccomp_load(f);
	seccomp_release(f);
	return r;
}

/* The worker: confine, walk, write the result to fd, exit (no atexit handlers: _exit). */
static void __attribute__((noreturn))
worker(struct triage *t, const struct triage_sandbox *sb, const struct passwd *pw, const char *name, const uint8_t *data,
       size_t len, int fd)
{
	struct rlimit cpu = { sb->cpu_secs ? sb->cpu_secs : 30, (sb->cpu_secs ? sb->cpu_secs : 30) + 1 };
	struct rlimit zero = { 0, 0 };
	json_t *result = NULL;
	struct bw_err err = { 0 };
	char *text;
	int keep = 3;

	if (dup2(fd, keep) != keep || prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		_exit(120);
	close_range(keep + 1, ~0U, 0);
	for (int i = 0; i < keep; i++)
		if (i != 2)
			close(i);
	if (setrlimit(RLIMIT_CPU, &cpu) != 0 || setrlimit(RLIMIT_FSIZE, &zero) != 0 || setrlimit(RLIMIT_CORE, &zero) != 0)
		_exit(121);
#ifndef BW_TRIAGE_ASAN
	{
		struct rlimit as = { sb->memory ? sb->memory : (rlim_t)2 << 30, sb->memory ? sb->memory : (rlim_t)2 << 30 };
		if (setrlimit(RLIMIT_AS, &as) != 0)
			_exit(121);
	}
#endif
	if (pw != NULL && (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0 ||
			   setuid(0) == 0))
		_exit(122);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || apply_seccomp() != 0)
		_exit(123);
	if (triage_scan(t, name, data, len, &result, &err) != 0)
		_exit(124);
	text = json_dumps(result, JSON_COMPACT);
	if (text == NULL || bw_write_all(keep, text, strlen(text)) != 0)
		_exit(125);
	_exit(0);
}

json_t *
triage_failed(const char *fmt, ...)
{
	char why[BW_ERR_MSG_MAX + 100];	/* room for any error message with some words around it */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s, s:i, s:[], s:[]}", "verdict", "failed", "failed", why, "score", 0, "reasons",
			 "indicators");
}

int
triage_scan_isolated(struct triage *t, const struct triage_sandbox *sb, const char *name, const uint8_t *data,
		     size_t len, json_t **result, struct bw_err *err)
{
	struct passwd pwbuf, *pw = NULL;
	char pwtext[1024];
	int p[2], status = 0;
	unsigned timeout = sb->timeout_ms ? sb->timeout_ms : 60000;
	struct bw_buf out = { 0 };
	int64_t deadline = bw_now_ms() + timeout;
	bool timed_out = false, too_long = false;
	pid_t pid;

	*result = NULL;
	if (geteuid() == 0 && (getpwnam_r(sb->user ? sb->user : "nobody", &pwbuf, pwtext, sizeof pwtext, &pw) != 0 ||
			       pw == NULL || pw->pw_uid == 0))
		return bw_err_set(err, BW_EINVAL, "the triage worker's user %s does not exist (or is root)",
				  sb->user ? sb->user : "nobody");
	if (pipe2(p, O_CLOEXEC) != 0)
		return bw_err_set(err, BW_EIO, "pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return bw_err_set(err, BW_EIO, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(p[0]);
		worker(t, sb, pw, name, data, len, p[1]);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		int64_t left = deadline - bw_now_ms();
		char buf[65536];
		ssize_t n;
		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
			break;
		if (!(pf.revents & (POLLIN | POLLHUP)))
			continue;
		if ((n = read(p[0], buf, sizeof buf)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.len + (size_t)n > RESULT_MAX) {
			too_long = true;
			break;
		}
		if (bw_buf_append(&out, buf, (size_t)n) != 0) {
			too_long = true;
			break;
		}
	}
	close(p[0]);
	if (timed_out || too_long)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		*result = triage_failed("triage did not finish within %u.%03u s (the worker was stopped)", timeout / 1000,
				 timeout % 1000);
	else if (too_long)
		*result = triage_failed("the worker's result was longer than %zu bytes", RESULT_MAX);
	else if (WIFSIGNALED(status))
		*result = triage_failed("the worker was killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
				 WTERMSIG(status) == SIGSYS ? ": it tried a forbidden system call"
				 : WTERMSIG(status) == SIGXCPU ? ": out of CPU time" : "");
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		*result = triage_failed("the worker failed (exit %d%s)", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 WIFEXITED(status) && WEXITSTATUS(status) == 124 ? ": out of memory" : "");
	else {
		json_error_t jerr;
		if ((*result = json_loadb((const char *)out.data, out.len, 0, &jerr)) == NULL)
			*result = triage_failed("the worker's result is not JSON: %.200s", jerr.text);
	}
	bw_buf_free(&out);
	return *result != NULL ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory");
}
