/*
 * agent/fim.c: file integrity of critical paths. A baseline of every file,
 * link and directory under the configured roots (to two levels below a
 * directory root; at most FIM_MAX entries) with its SHA-256 (a link: of
 * its target), owner and mode; inotify on the roots and their directories
 * asks for a new scan (a quarter second later, so a burst is one scan),
 * and a periodic scan catches what inotify cannot see (a change while the
 * agent was stopped, a directory created later). Each difference from the
 * baseline is a host event of source "fim": created, changed, deleted or
 * attributes, naming the path, the old and new hash, owner and mode.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "agent_internal.h"
#include "crypto/crypto.h"
#include "hostev/hostev.h"

#define FIM_MAX 10000
#define FIM_DEPTH 2
#define FIM_SETTLE_MS 250
#define FIM_HASH_MAX ((uint64_t)1 << 30)	/* a larger file is hashed in its first GiB */

struct fim_entry {
	char *path;
	char kind;			/* 'f' file, 'l' link, 'd' directory, 'o' other */
	char sha[65];			/* hex; "" for directories and others */
	unsigned mode, uid, gid;
	uint64_t size;
};

struct fim {
	char **roots;
	size_t nroots;
	char state_path[1100];
	struct fim_entry *base;		/* the baseline, by path */
	size_t nbase;
	bool have_base;
	bool dirty;			/* the baseline changed and is not saved yet */
	int ino;
	int64_t scan_at;		/* the next scan (0: none asked) */
	int64_t next_periodic;
	unsigned scan_secs;
	struct bw_sha256 *h;
	uint64_t errors;
	char error[256];
};

static void
entries_free(struct fim_entry *e, size_t n)
{
	size_t i;

	for (i = 0; e != NULL && i < n; i++)
		free(e[i].path);
	free(e);
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct fim_entry *)a)->path, ((const struct fim_entry *)b)->path);
}

/* ---- the baseline on disk ---- */

static int
load_base(struct fim *f, struct bw_err *err)
{
	json_error_t je;
	json_t *root, *arr, *o;
	size_t i;

	if (access(f->state_path, F_OK) != 0)
		return 0;
	if ((root = json_load_file(f->state_path, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s: %s", f->state_path, je.text);
	arr = json_object_get(root, "entries");
	if ((f->base = calloc(json_array_size(arr) + 1, sizeof *f->base)) == NULL) {
		json_decref(root);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	json_array_foreach(arr, i, o) {
		struct fim_entry *e = &f->base[f->nbase];
		const char *p = json_string_value(json_object_get(o, "path")), *k = json_string_value(json_object_get(o, "kind")),
			   *h = json_string_value(json_object_get(o, "sha256"));
		if (p == NULL || k == NULL || h == NULL || strlen(h) > 64 || (e->path = strdup(p)) == NULL)
			continue;
		e->kind = k[0];
		snprintf(e->sha, sizeof e->sha, "%s", h);
		e->mode = (unsigned)json_integer_value(json_object_get(o, "mode"));
		e->uid = (unsigned)json_integer_value(json_object_get(o, "uid"));
		e->gid = (unsigned)json_integer_value(json_object_get(o, "gid"));
		e->size = (uint64_t)json_integer_value(json_object_get(o, "size"));
		f->nbase++;
	}
	json_decref(root);
	qsort(f->base, f->nbase, sizeof *f->base, cmp_entry);
	f->have_base = true;
	return 0;
}

int
fim_save(struct fim *f, struct bw_err *err)
{
	json_t *arr, *root;
	char *text;
	size_t i;
	int r;

	if (f == NULL || !f->dirty)
		return 0;
	arr = json_array();
	for (i = 0; arr != NULL && i < f->nbase; i++) {
		const struct fim_entry *e = &f->base[i];
		char k[2] = { e->kind, 0 };
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "path", e->path, "kind", k,
						     "sha256", e->sha, "mode", (json_int_t)e->mode, "uid",
						     (json_int_t)e->uid, "gid", (json_int_t)e->gid, "size",
						     (json_int_t)e->size));
	}
	root = json_pack("{s:o}", "entries", arr);
	text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (text == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory (or a path that is not UTF-8)");
	if ((r = bw_file_write_atomic(f->state_path, text, strlen(text), 0600, err)) == 0)
		f->dirty = false;
	free(text);
	return r;
}

/* ---- scanning ---- */

static void
hash_file(struct fim *f, const char *path, char out[65])
{
	uint8_t buf[65536], d[BW_SHA256_SIZE];
	uint64_t total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

	out[0] = '\0';
	if (fd < 0)
		return;
	bw_sha256_init(f->h);
	while (total < FIM_HASH_MAX && (n = read(fd, buf, sizeof buf)) > 0) {
		bw_sha256_update(f->h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	bw_sha256_final(f->h, d);
	bw_hex_encode(out, d, sizeof d);
}

static int
add(struct fim *f, const char *path, int depth, struct fim_entry **v, size_t *n, size_t *cap)
{
	struct stat st;
	struct fim_entry *e;

	if (lstat(path, &st) != 0)
		return 0;	/* absent: nothing to record (its creation will be) */
	if (*n >= FIM_MAX) {
		f->errors++;
		snprintf(f->error, sizeof f->error, "more than %d paths under the watched roots: the rest are not watched",
			 FIM_MAX);
		return 0;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 128;
		struct fim_entry *nv = realloc(*v, c * sizeof *nv);
		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = c;
	}
	e = &(*v)[*n];
	memset(e, 0, sizeof *e);
	if ((e->path = strdup(path)) == NULL)
		return -1;
	(*n)++;
	e->mode = st.st_mode & 07777;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->size = (uint64_t)st.st_size;
	if (S_ISREG(st.st_mode)) {
		e->kind = 'f';
		hash_file(f, path, e->sha);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t tl = readlink(path, target, sizeof target);
		uint8_t d[BW_SHA256_SIZE];
		e->kind = 'l';
		if (tl >= 0) {
			bw_sha256_digest(f->h, target, (size_t)tl, d);
			bw_hex_encode(e->sha, d, sizeof d);
		}
	} else if (S_ISDIR(st.st_mode)) {
		e->kind = 'd';
		if (f->ino >= 0)
			inotify_add_watch(f->ino, path, IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
								 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
		if (depth < FIM_DEPTH) {
			DIR *d = opendir(path);
			struct dirent *de;
			while (d != NULL && (de = readdir(d)) != NULL) {
				char sub[PATH_MAX];
				if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
					continue;
				if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= sizeof sub)
					continue;
				if (add(f, sub, depth + 1, v, n, cap) != 0) {
					closedir(d);
					return -1;
				}
			}
			if (d != NULL)
				closedir(d);
		}
	} else {
		e->kind = 'o';
	}
	return 0;
}

/* A path for the raw record: as it is when it has only plain characters, else in hex (as auditd writes names). */
static void
put_path(struct bw_buf *b, const char *key, const char *p)
{
	const char *q;

	for (q = p; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == '"' || (unsigned char)*q >= 0x7f)
			break;
	if (*q == '\0') {
		bw_buf_printf(b, "%s=%s", key, p);
		return;
	}
	bw_buf_printf(b, "%s=", key);
	for (q = p; *q; q++)
		bw_buf_printf(b, "%02X", (unsigned char)*q);
}

static int
emit(const char *action, const struct fim_entry *old, const struct fim_entry *cur,
     int (*fn)(void *ctx, struct hostev_event *ev), void *ctx, struct bw_err *err)
{
	const struct fim_entry *e = cur != NULL ? cur : old;
	struct hostev_event ev = { 0 };
	struct bw_buf raw = { 0 };
	char who[32];

	snprintf(ev.source, sizeof ev.source, "fim");
	ev.time_ms = bw_now_ms();
	put_path(&raw, "path", e->path);
	bw_buf_printf(&raw, " kind=%s", e->kind == 'f' ? "file" : e->kind == 'l' ? "link" : e->kind == 'd' ? "dir" : "other");
	if (old != NULL)
		bw_buf_printf(&raw, " old_sha256=%s old_mode=%04o old_uid=%u old_gid=%u old_size=%llu",
			      old->sha[0] ? old->sha : "-", old->mode, old->uid, old->gid, (unsigned long long)old->size);
	if (cur != NULL)
		bw_buf_printf(&raw, " new_sha256=%s new_mode=%04o new_uid=%u new_gid=%u new_size=%llu",
			      cur->sha[0] ? cur->sha : "-", cur->mode, cur->uid, cur->gid, (unsigned long long)cur->size);
	snprintf(who, sizeof who, "uid=%u", e->uid);
	ev.subject = strdup(who);
	ev.action = strdup(action);
	ev.object = strndup(e->path, HOSTEV_TEXT_MAX);
	ev.result = strdup("");
	if (raw.len > HOSTEV_RAW_MAX)
		raw.len = HOSTEV_RAW_MAX;
	ev.raw = bw_buf_take(&raw, &ev.raw_len);
	if (ev.subject == NULL || ev.action == NULL || ev.object == NULL || ev.result == NULL || ev.raw == NULL) {
		hostev_event_clear(&ev);
		bw_buf_free(&raw);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	return fn(ctx, &ev);
}

/* Scans the roots, reports each difference from the baseline (none on the first scan), and makes it the baseline. */
static int
scan(struct fim *f, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx, size_t *changes, struct bw_err *err)
{
	struct fim_entry *cur = NULL;
	size_t n = 0, cap = 0, i = 0, k = 0, r;
	int rc = 0;

	*changes = 0;
	f->error[0] = '\0';
	for (r = 0; r < f->nroots; r++)
		if (add(f, f->roots[r], 0, &cur, &n, &cap) != 0) {
			entries_free(cur, n);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	if (n > 1)
		qsort(cur, n, sizeof *cur, cmp_entry);
	while (f->have_base && rc == 0 && (i < f->nbase || k < n)) {
		int c = i == f->nbase ? 1 : k == n ? -1 : strcmp(f->base[i].path, cur[k].path);
		if (c < 0) {
			rc = emit("deleted", &f->base[i++], NULL, fn, ctx, err);
			++*changes;
		} else if (c > 0) {
			rc = emit("created", NULL, &cur[k++], fn, ctx, err);
			++*changes;
		} else {
			const struct fim_entry *a = &f->base[i++], *b = &cur[k++];
			bool content = a->kind != b->kind || strcmp(a->sha, b->sha) != 0;
			bool attrs = a->mode != b->mode || a->uid != b->uid || a->gid != b->gid;
			if (content || attrs) {
				rc = emit(content ? "changed" : "attributes", a, b, fn, ctx, err);
				++*changes;
			}
		}
	}
	if (rc != 0) {
		entries_free(cur, n);
		return rc;
	}
	entries_free(f->base, f->nbase);
	f->base = cur;
	f->nbase = n;
	f->dirty = f->dirty || *changes > 0 || !f->have_base;
	f->have_base = true;
	return 0;
}

/* ---- the contract ---- */

int
fim_open(const char *const *roots, size_t nroots, const char *state_path, unsigned scan_secs, struct fim **out,
	 struct bw_err *err)
{
	struct fim *f = calloc(1, sizeof *f);
	size_t i;
	int r;

	*out = NULL;
	if (f == NULL || (f->roots = calloc(nroots, sizeof *f->roots)) == NULL) {
		free(f);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	f->ino = -1;
	for (i = 0; i < nroots; i++) {
		if (roots[i][0] != '/' || strlen(roots[i]) >= PATH_MAX) {
			fim_close(f);
			return bw_err_set(err, BW_EINVAL, "--fim %.200s: an absolute path is needed", roots[i]);
		}
		if ((f->roots[f->nroots++] = strdup(roots[i])) == NULL) {
			fim_close(f);
			return bw_err_set(err, BW_ENOMEM, "out of memory");
		}
	}
	snprintf(f->state_path, sizeof f->state_path, "%s", state_path);
	f->scan_secs = scan_secs;
	if ((r = bw_sha256_new(&f->h, err)) != 0 || (r = load_base(f, err)) != 0) {
		fim_close(f);
		return r;
	}
	f->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ino >= 0)	/* the roots' parents: a root replaced by rename, or created later */
		for (i = 0; i < f->nroots; i++) {
			char parent[PATH_MAX];
			char *slash;
			snprintf(parent, sizeof parent, "%s", f->roots[i]);
			if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
				*slash = '\0';
			inotify_add_watch(f->ino, parent, IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE |
								  IN_ATTRIB | IN_ONLYDIR);
		}
	f->scan_at = 1;	/* at once */
	*out = f;
	return 0;
}

void
fim_close(struct fim *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nroots; i++)
		free(f->roots[i]);
	free(f->roots);
	entries_free(f->base, f->nbase);
	bw_sha256_free(f->h);
	if (f->ino >= 0)
		close(f->ino);
	free(f);
}

int
fim_poll(struct fim *f, int64_t now, int (*fn)(void *ctx, struct hostev_event *ev), void *ctx, size_t *changes,
	 struct bw_err *err)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	*changes = 0;
	if (f->ino >= 0) {
		ssize_t n;
		bool any = false;
		while ((n = read(f->ino, buf, sizeof buf)) > 0)
			any = true;
		if (any && f->scan_at == 0)
			f->scan_at = now + FIM_SETTLE_MS;
	}
	if (f->next_periodic == 0)
		f->next_periodic = now + (int64_t)f->scan_secs * 1000;
	if (now >= f->next_periodic && f->scan_at == 0)
		f->scan_at = now;
	if (f->scan_at == 0 || now < f->scan_at)
		return 0;
	f->scan_at = 0;
	f->next_periodic = now + (int64_t)f->scan_secs * 1000;
	return scan(f, fn, ctx, changes, err);
}

size_t
fim_count(const struct fim *f)
{
	return f->nbase;
}

const char *
fim_error(const struct fim *f, uint64_t *errors)
{
	*errors = f->errors;
	return f->error;
}

static const char *const critical[] = {
	"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d", "/etc/sudoers", "/etc/sudoers.d", "/etc/pam.conf",
	"/etc/pam.d", "/etc/security", "/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/crontab", "/etc/cron.d", "/var/spool/cron/crontabs", "/etc/systemd/system", "/etc/passwd",
	"/etc/shadow", "/etc/group", "/etc/gshadow",
};

int
agent_fim_critical_paths(struct bw_buf *out, size_t *n, struct bw_err *err)
{
	FILE *pw = fopen("/etc/passwd", "r");
	char line[1024];
	size_t i;

	*n = 0;
	for (i = 0; i < sizeof critical / sizeof critical[0]; i++, ++*n)
		if (bw_buf_append(out, critical[i], strlen(critical[i]) + 1) != 0)
			goto oom;
	/* each login user's authorized_keys (users with a shell that is not nologin or false) */
	while (pw != NULL && fgets(line, sizeof line, pw) != NULL) {
		char *f[7], *p = line, path[PATH_MAX];
		int k;
		for (k = 0; k < 7 && p != NULL; k++)
			f[k] = strsep(&p, ":");
		if (k < 7 || f[5][0] != '/')
			continue;
		f[6][strcspn(f[6], "\n")] = '\0';
		if (f[6][0] == '\0' || strstr(f[6], "nologin") != NULL || strstr(f[6], "/false") != NULL)
			continue;
		for (const char *name = "authorized_keys"; name != NULL;
		     name = strcmp(name, "authorized_keys") == 0 ? "authorized_keys2" : NULL) {
			if ((size_t)snprintf(path, sizeof path, "%s/.ssh/%s", f[5], name) >= sizeof path)
				continue;
			if (bw_buf_append(out, path, strlen(path) + 1) != 0)
				goto oom;
			++*n;
		}
	}
	if (pw != NULL)
		fclose(pw);
	return 0;
oom:
	if (pw != NULL)
		fclose(pw);
	return bw_err_set(err, BW_ENOMEM, "out of memory");
}
