/*
 * detect/host_views.c: one auditd event (hostev) as the documents rules of
 * each log source see: every record as itself (service: auditd), an exec
 * as process_creation, a created file as file_event and an outgoing
 * connection as network_connection (Sigma's taxonomy). Parents come from
 * a bounded table of the processes seen exec'ing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

#define PID_SLOTS 16384		/* processes remembered (per slot: the last exec of one pid) */
#define CMDLINE_MAX 8192	/* a longer command line is cut (ending "...") */
#define VIEW_FIELDS 24

/* The fields each view has (NULL-terminated); sources not listed have open field sets. */
static const char *const process_fields[] = { "Image", "ProcessId", "User", "LogonId", "Computer", "CommandLine",
					      "CurrentDirectory", "ParentProcessId", "ParentImage",
					      "ParentCommandLine", NULL };
static const char *const file_fields[] = { "Image", "ProcessId", "User", "LogonId", "Computer", "TargetFilename",
					   NULL };
static const char *const access_fields[] = { "Image", "ProcessId", "User", "LogonId", "Computer", "TargetFilename",
					     "AuditKey", NULL };
static const char *const network_fields[] = { "Image", "ProcessId", "User", "LogonId", "Computer", "DestinationIp",
					      "DestinationPort", "Initiated", NULL };

bool
detect_source_has_field(enum detect_source src, const char *name)
{
	const char *const *f = src == DETECT_SRC_PROCESS_CREATION     ? process_fields
			       : src == DETECT_SRC_FILE_EVENT	      ? file_fields
			       : src == DETECT_SRC_NETWORK_CONNECTION ? network_fields
			       : src == DETECT_SRC_FILE_ACCESS	      ? access_fields
								      : NULL;

	if (strncmp(name, "enrich.", 7) == 0)
		return true;	/* added to every event before matching (enrich.c) */
	if (src >= DETECT_SRC_LINUX && src <= DETECT_SRC_CRON)
		return detect_log_source_has_field(name);
	if (src == DETECT_SRC_FILE_CHANGE || src == DETECT_SRC_AGENT)
		return detect_event_source_has_field(src, name);
	if (f == NULL)
		return true;
	for (; *f != NULL; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

struct pid_slot {
	uint64_t host;		/* hash of the node name */
	uint64_t pid;
	char *image;
	char *cmdline;
};

struct detect_host_mapper {
	struct pid_slot *slots;
	struct bw_buf cmd;	/* scratch: the command line being built */
	struct bw_buf path;	/* scratch: a file name made absolute */
};

int
detect_host_mapper_new(struct detect_host_mapper **out, struct bw_err *err)
{
	struct detect_host_mapper *m = calloc(1, sizeof *m);

	*out = NULL;
	if (m == NULL || (m->slots = calloc(PID_SLOTS, sizeof *m->slots)) == NULL) {
		free(m);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	*out = m;
	return 0;
}

void
detect_host_mapper_free(struct detect_host_mapper *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < PID_SLOTS; i++) {
		free(m->slots[i].image);
		free(m->slots[i].cmdline);
	}
	free(m->slots);
	bw_buf_free(&m->cmd);
	bw_buf_free(&m->path);
	free(m);
}

static struct pid_slot *
slot_for(struct detect_host_mapper *m, uint64_t host, uint64_t pid)
{
	return &m->slots[(host ^ (pid * 0x9e3779b97f4a7c15ull)) % PID_SLOTS];
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	return s != NULL && bw_parse_u64(s, strlen(s), out) == 0;
}

struct view {
	struct detect_field f[VIEW_FIELDS];
	size_t n;
};

static void
put(struct view *v, const char *name, const char *value)
{
	if (value == NULL || v->n == VIEW_FIELDS)
		return;
	v->f[v->n].name = name;
	v->f[v->n].value = value;
	v->f[v->n].len = strlen(value);
	v->n++;
}

/* The command line: EXECVE's a0..a(argc-1), over as many EXECVE records as auditd wrote, space-separated. */
static int
build_cmdline(struct detect_host_mapper *m, const struct hostev_audit_event *ev)
{
	size_t i, k;
	char name[24];
	bool first = true;

	m->cmd.len = 0;
	if (bw_buf_reserve(&m->cmd, 64) != 0)
		return BW_ENOMEM;
	m->cmd.data[0] = '\0';
	for (i = 0; i < ev->nrecords; i++) {
		const struct hostev_record *r = &ev->records[i];
		if (strcmp(r->type, "EXECVE") != 0)
			continue;
		for (k = 0; k < r->nfields; k++) {
			const char *fname = r->fields[k].name, *val = r->fields[k].value;
			size_t vl;
			if (fname[0] != 'a' || fname[1] < '0' || fname[1] > '9')
				continue;
			snprintf(name, sizeof name, "a%.*s", (int)strspn(fname + 1, "0123456789"), fname + 1);
			if (strcmp(name, fname) != 0)
				continue;
			vl = strlen(val);
			if (m->cmd.len + vl + 1 > CMDLINE_MAX) {
				if (bw_buf_append_str(&m->cmd, first ? "..." : " ...") != 0)
					return BW_ENOMEM;
				return 0;
			}
			if ((!first && bw_buf_append_byte(&m->cmd, ' ') != 0) || bw_buf_append(&m->cmd, val, vl) != 0)
				return BW_ENOMEM;
			first = false;
		}
	}
	return 0;
}

static int
remember(struct detect_host_mapper *m, uint64_t host, uint64_t pid, const char *image, const char *cmdline)
{
	struct pid_slot *s = slot_for(m, host, pid);
	char *ni = strdup(image != NULL ? image : ""), *nc = strdup(cmdline);

	if (ni == NULL || nc == NULL) {
		free(ni);
		free(nc);
		return BW_ENOMEM;
	}
	free(s->image);
	free(s->cmdline);
	s->host = host;
	s->pid = pid;
	s->image = ni;
	s->cmdline = nc;
	return 0;
}

/* The name of the user of id field (uid, auid...): the record's own interpretation, or the number. */
static const char *
user_of(const struct hostev_record *sys, const char *upper, const char *lower)
{
	const char *v = hostev_record_get(sys, upper);

	return v != NULL ? v : hostev_record_get(sys, lower);
}

/* Puts the fields every process-related view shares: the process, its user, its host. */
static void
put_process(struct view *v, const struct hostev_audit_event *ev, const struct hostev_record *sys)
{
	put(v, "Image", hostev_record_get(sys, "exe"));
	put(v, "ProcessId", hostev_record_get(sys, "pid"));
	put(v, "User", user_of(sys, "UID", "uid"));
	put(v, "LogonId", hostev_record_get(sys, "auid"));
	if (ev->node[0] != '\0')
		put(v, "Computer", ev->node);
}

static bool
syscall_is(const struct hostev_record *sys, const char *a, const char *b)
{
	const char *s = hostev_record_get(sys, "SYSCALL");

	return s != NULL && (strcmp(s, a) == 0 || (b != NULL && strcmp(s, b) == 0));
}

static int
process_creation(struct detect_host_mapper *m, const struct hostev_audit_event *ev, const struct hostev_record *sys,
		 uint64_t host, detect_view_fn fn, void *ctx)
{
	const struct hostev_record *cwd = hostev_audit_find(ev, "CWD");
	const char *success = hostev_record_get(sys, "success");
	struct view v = { .n = 0 };
	uint64_t pid = 0, ppid = 0;
	const struct pid_slot *parent = NULL;
	struct detect_event de;

	if (hostev_audit_find(ev, "EXECVE") == NULL || !syscall_is(sys, "execve", "execveat") ||
	    (success != NULL && strcmp(success, "yes") != 0))
		return 0;
	if (build_cmdline(m, ev) != 0)
		return BW_ENOMEM;
	if (parse_u64(hostev_record_get(sys, "ppid"), &ppid)) {
		const struct pid_slot *s = slot_for(m, host, ppid);
		if (s->image != NULL && s->host == host && s->pid == ppid)
			parent = s;
	}
	put_process(&v, ev, sys);
	put(&v, "CommandLine", (const char *)m->cmd.data);
	put(&v, "CurrentDirectory", cwd != NULL ? hostev_record_get(cwd, "cwd") : NULL);
	put(&v, "ParentProcessId", hostev_record_get(sys, "ppid"));
	if (parent != NULL) {
		put(&v, "ParentImage", parent->image);
		put(&v, "ParentCommandLine", parent->cmdline);
	}
	de = (struct detect_event){ .fields = v.f, .nfields = v.n, .raw = (const char *)m->cmd.data,
				    .raw_len = m->cmd.len };
	fn(ctx, DETECT_SRC_PROCESS_CREATION, &de);
	if (parse_u64(hostev_record_get(sys, "pid"), &pid))
		return remember(m, host, pid, hostev_record_get(sys, "exe"), (const char *)m->cmd.data);
	return 0;
}

/* name made absolute with the event's CWD (into m->path). */
static int
absolute_name(struct detect_host_mapper *m, const char *dir, const char *name)
{
	m->path.len = 0;
	if (name[0] != '/' && dir != NULL && dir[0] != '\0') {
		const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
		return bw_buf_printf(&m->path, "%s%s%s", dir, sep, name);
	}
	return bw_buf_append_str(&m->path, name);
}

/*
 * Every PATH record that created a name (file_event), and every one of an
 * existing file that a syscall other than exec used (file_access), with
 * TargetFilename made absolute with CWD.
 */
static int
file_events(struct detect_host_mapper *m, const struct hostev_audit_event *ev, const struct hostev_record *sys,
	    detect_view_fn fn, void *ctx)
{
	const struct hostev_record *cwd = hostev_audit_find(ev, "CWD");
	const char *dir = cwd != NULL ? hostev_record_get(cwd, "cwd") : NULL;
	const char *key = hostev_record_get(sys, "key");
	bool exec = syscall_is(sys, "execve", "execveat");
	size_t i;

	if (key != NULL && strcmp(key, "(null)") == 0)
		key = NULL;
	for (i = 0; i < ev->nrecords; i++) {
		const struct hostev_record *r = &ev->records[i];
		const char *nt, *name;
		struct view v = { .n = 0 };
		struct detect_event de;
		enum detect_source src;

		if (strcmp(r->type, "PATH") != 0 || (nt = hostev_record_get(r, "nametype")) == NULL ||
		    (name = hostev_record_get(r, "name")) == NULL || strcmp(name, "(null)") == 0)
			continue;
		if (strcmp(nt, "CREATE") == 0)
			src = DETECT_SRC_FILE_EVENT;
		else if (strcmp(nt, "NORMAL") == 0 && !exec)
			src = DETECT_SRC_FILE_ACCESS;
		else
			continue;
		if (absolute_name(m, dir, name) != 0)
			return BW_ENOMEM;
		put_process(&v, ev, sys);
		put(&v, "TargetFilename", (const char *)m->path.data);
		if (src == DETECT_SRC_FILE_ACCESS)
			put(&v, "AuditKey", key);
		de = (struct detect_event){ .fields = v.f, .nfields = v.n, .raw = r->text, .raw_len = strlen(r->text) };
		fn(ctx, src, &de);
	}
	return 0;
}

/* An outgoing connect() to an IPv4/IPv6 address: DestinationIp, DestinationPort, Initiated. */
static void
network_connection(const struct hostev_audit_event *ev, const struct hostev_record *sys, detect_view_fn fn,
		   void *ctx)
{
	const struct hostev_record *sa = hostev_audit_find(ev, "SOCKADDR");
	const char *fam, *ip, *port, *ex = hostev_record_get(sys, "exit"), *success = hostev_record_get(sys, "success");
	struct view v = { .n = 0 };
	struct detect_event de;

	if (sa == NULL || !syscall_is(sys, "connect", NULL) || (fam = hostev_record_get(sa, "saddr_fam")) == NULL ||
	    (strcmp(fam, "inet") != 0 && strcmp(fam, "inet6") != 0) || (ip = hostev_record_get(sa, "laddr")) == NULL ||
	    (port = hostev_record_get(sa, "lport")) == NULL)
		return;
	/* a refused or unreachable connect is not a connection; EINPROGRESS (non-blocking) is one under way */
	if (success != NULL && strcmp(success, "yes") != 0 && (ex == NULL || strcmp(ex, "-115") != 0))
		return;
	put_process(&v, ev, sys);
	put(&v, "DestinationIp", ip);
	put(&v, "DestinationPort", port);
	put(&v, "Initiated", "true");
	de = (struct detect_event){ .fields = v.f, .nfields = v.n, .raw = sa->text, .raw_len = strlen(sa->text) };
	fn(ctx, DETECT_SRC_NETWORK_CONNECTION, &de);
}

/* Each record as itself: its type and its fields under auditd's names. */
static int
records(const struct hostev_audit_event *ev, detect_view_fn fn, void *ctx)
{
	struct detect_field stack[64], *f = stack;
	size_t i, k, cap = 64;

	for (i = 0; i < ev->nrecords; i++) {
		const struct hostev_record *r = &ev->records[i];
		struct detect_event de;

		if (r->nfields + 2 > cap) {
			struct detect_field *nf;
			cap = r->nfields + 2;
			nf = f == stack ? malloc(cap * sizeof *nf) : realloc(f, cap * sizeof *nf);
			if (nf == NULL) {
				if (f != stack)
					free(f);
				return BW_ENOMEM;
			}
			f = nf;
		}
		f[0] = (struct detect_field){ "type", r->type, strlen(r->type) };
		for (k = 0; k < r->nfields; k++)
			f[k + 1] = (struct detect_field){ r->fields[k].name, r->fields[k].value, strlen(r->fields[k].value) };
		k = r->nfields + 1;
		if (ev->node[0] != '\0')
			f[k++] = (struct detect_field){ "node", ev->node, strlen(ev->node) };
		de = (struct detect_event){ .fields = f, .nfields = k, .raw = r->text, .raw_len = strlen(r->text) };
		fn(ctx, DETECT_SRC_AUDITD, &de);
	}
	if (f != stack)
		free(f);
	return 0;
}

int
detect_host_views(struct detect_host_mapper *m, const struct hostev_audit_event *ev, detect_view_fn fn, void *ctx,
		  struct bw_err *err)
{
	const struct hostev_record *sys = hostev_audit_find(ev, "SYSCALL");
	uint64_t host = detect_fnv64(DETECT_FNV64_INIT, ev->node, strlen(ev->node));

	if (records(ev, fn, ctx) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if (sys == NULL)
		return 0;
	if (process_creation(m, ev, sys, host, fn, ctx) != 0 || file_events(m, ev, sys, fn, ctx) != 0)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	network_connection(ev, sys, fn, ctx);
	return 0;
}
