/* hostev/audit_rules.c: the audit rules (auditctl syntax) that the shipped detection rules rely on. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "hostev/hostev.h"

static const char *const watched_for_writes[][2] = {
	{ "/etc/passwd", "bulwark-identity" },	  { "/etc/shadow", "bulwark-identity" },
	{ "/etc/group", "bulwark-identity" },	  { "/etc/gshadow", "bulwark-identity" },
	{ "/etc/sudoers", "bulwark-identity" },	  { "/etc/sudoers.d/", "bulwark-identity" },
	{ "/etc/ssh/sshd_config", "bulwark-identity" }, { "/etc/ssh/sshd_config.d/", "bulwark-identity" },
	{ "/etc/pam.d/", "bulwark-identity" },	  { "/etc/security/", "bulwark-identity" },
	{ "/etc/ld.so.preload", "bulwark-loader" }, { "/etc/ld.so.conf", "bulwark-loader" },
	{ "/etc/ld.so.conf.d/", "bulwark-loader" }, { "/etc/crontab", "bulwark-persistence" },
	{ "/etc/cron.d/", "bulwark-persistence" }, { "/var/spool/cron/", "bulwark-persistence" },
	{ "/etc/systemd/system/", "bulwark-persistence" }, { "/etc/audit/", "bulwark-audit" },
	{ "/etc/libaudit.conf", "bulwark-audit" }, { "/etc/localtime", "bulwark-time" },
};

/* A path auditctl takes as one word and that names what it says. */
static const char *
path_problem(const char *p)
{
	size_t i, n = strlen(p);

	if (n == 0 || p[0] != '/')
		return "not an absolute path";
	if (n > 1024)
		return "longer than 1024 bytes";
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return "spaces and control characters cannot be written in an audit rule";
	if (strstr(p, "/../") != NULL || strcmp(p + n - (n >= 3 ? 3 : n), "/..") == 0 || strstr(p, "/./") != NULL)
		return "'.' and '..' are not allowed";
	return NULL;
}

/*
 * Can the kernel watch path? It must exist, or its parent directory must
 * (auditctl refuses a watch whose parent is missing).
 */
static bool
watchable(const char *path)
{
	char parent[1100];
	struct stat st;
	size_t n = strlen(path);

	if (stat(path, &st) == 0)
		return true;
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 1 && path[n - 1] != '/')
		n--;
	if (n >= sizeof parent)
		return false;
	memcpy(parent, path, n);
	parent[n] = '\0';
	return stat(parent, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "-w PATH -p PERM -k KEY", or a comment saying why this host gets none. */
static int
watch(struct bw_buf *out, const char *path, const char *perm, const char *key)
{
	if (!watchable(path))
		return bw_buf_printf(out, "# (nothing to watch here yet, re-run when it exists) -w %s -p %s -k %s\n", path,
				     perm, key);
	return bw_buf_printf(out, "-w %s -p %s -k %s\n", path, perm, key);
}

/* Each user with a login shell: a watch on HOME/.ssh/authorized_keys (and authorized_keys2). */
static int
authorized_keys(struct bw_buf *out)
{
	struct passwd pw, *res;
	char buf[4096];
	FILE *f = fopen("/etc/passwd", "r");

	if (f == NULL)
		return bw_buf_append_str(out, "# (no /etc/passwd: add -w HOME/.ssh/authorized_keys -p wa -k bulwark-identity)\n");
	while (fgetpwent_r(f, &pw, buf, sizeof buf, &res) == 0) {
		const char *sh = pw.pw_shell != NULL ? pw.pw_shell : "";
		size_t sl = strlen(sh);
		if (pw.pw_dir == NULL || path_problem(pw.pw_dir) != NULL || strcmp(pw.pw_dir, "/") == 0 || sl == 0 ||
		    (sl >= 7 && strcmp(sh + sl - 7, "nologin") == 0) || (sl >= 5 && strcmp(sh + sl - 5, "false") == 0) ||
		    (sl >= 4 && strcmp(sh + sl - 4, "sync") == 0))
			continue;
		char path[1100];
		int r;
		snprintf(path, sizeof path, "%s/.ssh/authorized_keys", pw.pw_dir);
		r = watch(out, path, "wa", "bulwark-identity");
		snprintf(path, sizeof path, "%s/.ssh/authorized_keys2", pw.pw_dir);
		if (r != 0 || watch(out, path, "wa", "bulwark-identity") != 0) {
			fclose(f);
			return BW_ENOMEM;
		}
	}
	fclose(f);
	return 0;
}

int
hostev_audit_rules(const char *const *design_dirs, size_t ndirs, struct bw_buf *out, struct bw_err *err)
{
	static const char *const syscalls[][2] = {
		{ "execve,execveat", "bulwark-exec" },
		{ "init_module,finit_module,delete_module", "bulwark-modules" },
		{ "adjtimex,settimeofday,clock_settime", "bulwark-time" },
	};
	struct utsname u;
	bool b32 = uname(&u) == 0 && strcmp(u.machine, "x86_64") == 0;
	size_t i;
	int r = 0;

	if (ndirs > HOSTEV_DESIGN_DIRS_MAX)
		return bw_err_set(err, BW_ERANGE, "at most %d design-data directories", HOSTEV_DESIGN_DIRS_MAX);
	for (i = 0; i < ndirs; i++) {
		const char *why = path_problem(design_dirs[i]);
		struct stat st;
		if (why == NULL && (stat(design_dirs[i], &st) != 0 || !S_ISDIR(st.st_mode)))
			why = "not a directory on this host";
		if (why != NULL)
			return bw_err_set(err, BW_EINVAL, "design-data directory '%.200s': %s", design_dirs[i], why);
	}
	r |= bw_buf_append_str(out, "## bulwark: the audit rules its detection rules expect (bulwark agent audit-rules)\n"
				    "## Install as /etc/audit/rules.d/50-bulwark.rules, then: augenrules --load\n"
				    "\n## every program run (process_creation)\n");
	for (i = 0; i < sizeof syscalls / sizeof syscalls[0]; i++) {
		if (i == 1)
			r |= bw_buf_append_str(out, "\n## kernel modules loaded or removed; the clock set\n");
		r |= bw_buf_printf(out, "-a always,exit -F arch=b64 -S %s -k %s\n", syscalls[i][0], syscalls[i][1]);
		if (b32)
			r |= bw_buf_printf(out, "-a always,exit -F arch=b32 -S %s%s -k %s\n", syscalls[i][0],
					   i == 2 ? ",stime" : "", syscalls[i][1]);
	}
	r |= bw_buf_append_str(out, "\n## identity, sudo, sshd, PAM, loader, cron, systemd and audit configuration changed\n");
	for (i = 0; i < sizeof watched_for_writes / sizeof watched_for_writes[0]; i++)
		r |= watch(out, watched_for_writes[i][0], "wa", watched_for_writes[i][1]);
	r |= bw_buf_append_str(out, "\n## each login user's authorized_keys\n");
	if (r == 0)
		r = authorized_keys(out);
	r |= bw_buf_append_str(out, "\n## design data read (file_access, AuditKey: bulwark-design)\n");
	if (ndirs == 0)
		r |= bw_buf_append_str(out, "# (none given: bulwark agent audit-rules --design-dir DIR ...)\n");
	for (i = 0; i < ndirs; i++)
		r |= bw_buf_printf(out, "-w %s -p r -k bulwark-design\n", design_dirs[i]);
	return r != 0 ? bw_err_set(err, BW_ENOMEM, "out of memory") : 0;
}
