/*
 * access/wrapper.c: the session wrapper hosts install (sshd checks a
 * certificate's validity only at login). It registers the session with the
 * host's session guard (bulwark agent guard, root), which ends every process
 * of the session at the window's end, and ends its own command or shell at
 * the deadline. bulwark sets every certificate's force-command to
 * "WRAPPER DEADLINE [BASE64-COMMAND]".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"

const char access_session_wrapper[] =
    "#!/bin/sh\n"
    "# bulwark ssh-session: ends a maintenance session at its certificate's deadline.\n"
    "# Installed by the host administrator; called by sshd as the certificate's force-command:\n"
    "#   ssh-session DEADLINE [BASE64-COMMAND]\n"
    "set -u\n"
    "# Where this host's bulwark binary and its session guard (bulwark agent guard, run as root) are:\n"
    "BULWARK=/usr/local/bin/bulwark\n"
    "GUARD_SOCKET=/run/bulwark-agent/guard.sock\n"
    "deadline=${1:-}\n"
    "case \"$deadline\" in ''|*[!0-9]*) echo 'bulwark: bad deadline' >&2; exit 1 ;; esac\n"
    "left=$((deadline - $(date +%s)))\n"
    "if [ \"$left\" -le 0 ]; then echo 'bulwark: the maintenance window is over' >&2; exit 1; fi\n"
    "if [ -n \"${2:-}\" ]; then\n"
    "    cmd=$(printf '%s' \"$2\" | base64 -d) || { echo 'bulwark: bad command' >&2; exit 1; }\n"
    "elif [ -n \"${SSH_ORIGINAL_COMMAND:-}\" ]; then\n"
    "    cmd=$SSH_ORIGINAL_COMMAND\n"
    "else\n"
    "    cmd=\"\"\n"
    "fi\n"
    "# Before anything of the vendor's runs: the guard takes this audit session and, at the deadline,\n"
    "# ends every process of it, also ones that detach (setsid) or ignore SIGTERM. No guard, no session.\n"
    "\"$BULWARK\" agent session-begin --socket \"$GUARD_SOCKET\" \"$deadline\" || {\n"
    "    echo 'bulwark: the host session guard did not take this session; ask the host administrator' >&2\n"
    "    exit 1\n"
    "}\n"
    "logger -t bulwark-ssh-session \"session until $deadline for ${USER:-?}\" 2>/dev/null || true\n"
    "if [ -z \"$cmd\" ]; then\n"
    "    # Interactive: the shell keeps the terminal; at the deadline it gets SIGHUP (and passes it\n"
    "    # to its jobs), then SIGKILL 5 s later; sshd then closes the terminal.\n"
    "    exec timeout --foreground -s HUP -k 5 \"$left\" \"${SHELL:-/bin/sh}\" -l\n"
    "fi\n"
    "# A command: timeout signals its whole process group (TERM, then KILL 5 s later).\n"
    "exec timeout -s TERM -k 5 \"$left\" /bin/sh -c \"$cmd\"\n";

int
access_force_command(const char *wrapper, int64_t deadline, const char *command, char **out, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	char *b64 = NULL;

	*out = NULL;
	if (wrapper == NULL)
		return command ? ((*out = strdup(command)) ? 0 : bw_err_set(err, BW_ENOMEM, "out of memory")) : 0;
	if (command != NULL) {
		if ((b64 = malloc(bw_base64_len(strlen(command)) + 1)) == NULL)
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		bw_base64_encode(b64, (const uint8_t *)command, strlen(command));
	}
	if (bw_buf_printf(&b, "%s %lld%s%s", wrapper, (long long)deadline, b64 ? " " : "", b64 ? b64 : "") != 0 ||
	    (*out = bw_buf_take(&b, NULL)) == NULL) {
		free(b64);
		bw_buf_free(&b);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	free(b64);
	return 0;
}
