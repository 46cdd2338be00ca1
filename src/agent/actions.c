/*
 * agent/actions.c: what the agent itself does (the session guard's starts
 * and kills, patch installs and refusals) recorded as lines in
 * STATE/hostev/actions.log, which `agent run` follows and ships as host
 * events of source "agent". Each line is one write() on an O_APPEND
 * descriptor, made durable before the call returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_internal.h"
#include "hostev/hostev.h"

int
agent_action_record(const char *state, const struct hostev_action *a, struct bw_err *err)
{
	char dir[1024], path[1100], *line = NULL;
	size_t len = 0;
	ssize_t w;
	int fd, r;

	if ((size_t)snprintf(dir, sizeof dir, "%s/hostev", state) >= sizeof dir)
		return bw_err_set(err, BW_EINVAL, "state directory path too long");
	snprintf(path, sizeof path, "%s/%s", dir, AGENT_ACTIONS_FILE);
	if ((r = hostev_action_format(a, &line, &len, err)) != 0)
		return r;
	line[len] = '\n';	/* take() leaves room for the NUL: the newline replaces it */
	if ((r = bw_mkdir_p(dir, 0700, err)) != 0)
		goto out;
	/*
	 * Root writes here, and with `agent run --user` the directory is the user's: no link is followed,
	 * and a FIFO or anything else that is not a regular file is refused, not waited on.
	 */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600)) < 0) {
		r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	{
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			r = bw_err_set(err, BW_EIO, "%s: not a regular file", path);
			goto out;
		}
	}
	w = write(fd, line, len + 1);
	if (w != (ssize_t)(len + 1))
		r = bw_err_set(err, BW_EIO, "%s: %s", path, w < 0 ? strerror(errno) : "short write");
	else if (fdatasync(fd) != 0)
		r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	close(fd);
out:
	free(line);
	return r;
}
