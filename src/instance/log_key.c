/*
 * instance/log_key.c: the audit log key's files during a rotation. The next
 * key is sealed for the same role as the key in use (keys/log.next.sealed),
 * so promoting it is a rename over keys/log.sealed, after the old key's
 * bytes were overwritten on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "instance_internal.h"

int
erase_file(const char *path, struct bw_err *err)
{
	static const uint8_t zeros[4096];
	struct stat st;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	off_t done = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		close(fd);
		return bw_err_set(err, BW_EIO, "cannot stat %s: %s", path, strerror(errno));
	}
	while (done < st.st_size) {
		size_t n = (size_t)(st.st_size - done) < sizeof zeros ? (size_t)(st.st_size - done) : sizeof zeros;
		if (bw_write_all(fd, zeros, n) != 0) {
			close(fd);
			return bw_err_set(err, BW_EIO, "cannot overwrite %s: %s", path, strerror(errno));
		}
		done += (off_t)n;
	}
	if (fdatasync(fd) != 0) {
		close(fd);
		return bw_err_set(err, BW_EIO, "fdatasync %s: %s", path, strerror(errno));
	}
	close(fd);
	if (unlink(path) != 0)
		return bw_err_set(err, BW_EIO, "cannot remove %s: %s", path, strerror(errno));
	return bw_fsync_dir(path, false, err);
}

/* Reads the sealed signer at rel. *out: caller frees. */
static int
load_signer(struct instance *in, const char *rel, struct note_signer **out, struct bw_err *err)
{
	char path[4200];
	int r;

	*out = NULL;
	if ((r = path_in(path, sizeof path, in->data, rel, err)) != 0)
		return r;
	if (access(path, F_OK) != 0)
		return bw_err_set(err, BW_ENOTFOUND, "%s: no such key", path);
	if ((r = sealed_signer_load(path, in->kek, LOG_KEY_AD, out, NULL, err)) != 0)
		bw_err_prefix(err, "%s", path);
	return r;
}

struct instance_retired_key {
	struct note_verifier *v;
	char *vkey;
	struct instance_retired_key *next;
};

struct note_verifier *
instance_log_verifier(const struct instance *in)
{
	return __atomic_load_n(&in->log_verifier, __ATOMIC_ACQUIRE);
}

const char *
instance_log_vkey(const struct instance *in)
{
	return __atomic_load_n(&in->log_vkey, __ATOMIC_ACQUIRE);
}

void
instance_log_retired_free(struct instance *in)
{
	while (in->log_retired != NULL) {
		struct instance_retired_key *k = in->log_retired;
		in->log_retired = k->next;
		note_verifier_free(k->v);
		free(k->vkey);
		free(k);
	}
}

int
instance_log_key_since(struct instance *in, int64_t *since, struct bw_err *err)
{
	char path[4200];
	struct stat st;
	int r;

	if ((r = path_in(path, sizeof path, in->data, INSTANCE_LOG_KEY, err)) != 0)
		return r;
	if (stat(path, &st) != 0)
		return bw_err_set(err, BW_EIO, "cannot stat %s: %s", path, strerror(errno));
	*since = (int64_t)st.st_mtime;
	return 0;
}

int
instance_log_signer(struct instance *in, struct note_signer **out, struct bw_err *err)
{
	return load_signer(in, INSTANCE_LOG_KEY, out, err);
}

int
instance_log_key_staged(struct instance *in, struct note_signer **next, struct bw_err *err)
{
	return load_signer(in, INSTANCE_LOG_KEY_NEXT, next, err);
}

int
instance_log_key_stage(struct instance *in, struct note_signer **next, struct bw_err *err)
{
	char path[4200], *skey = NULL, *vkey = NULL;
	int r;

	*next = NULL;
	if ((r = path_in(path, sizeof path, in->data, INSTANCE_LOG_KEY_NEXT, err)) != 0)
		return r;
	if (access(path, F_OK) == 0)
		return bw_err_set(err, BW_ECONFLICT, "a log key rotation is unfinished (%s exists)", path);
	if ((r = note_key_generate(in->log_verifier->name, &skey, &vkey, err)) != 0)
		return r;
	if ((r = write_sealed(path, in->kek, LOG_KEY_AD, skey, strlen(skey), err)) == 0 &&
	    (r = note_signer_parse(skey, strlen(skey), next, err)) != 0)
		unlink(path);
	bw_memzero(skey, strlen(skey));
	free(skey);
	free(vkey);
	return r;
}

int
instance_log_key_unstage(struct instance *in, struct bw_err *err)
{
	char path[4200];
	int r;

	if ((r = path_in(path, sizeof path, in->data, INSTANCE_LOG_KEY_NEXT, err)) != 0)
		return r;
	return erase_file(path, err);
}

int
instance_log_key_promote(struct instance *in, struct bw_err *err)
{
	char cur[4200], next[4200], *vkey = NULL;
	struct note_signer *signer = NULL;
	struct note_verifier *v = NULL;
	struct instance_retired_key *old = NULL;
	int r;

	if ((r = path_in(cur, sizeof cur, in->data, INSTANCE_LOG_KEY, err)) != 0 ||
	    (r = path_in(next, sizeof next, in->data, INSTANCE_LOG_KEY_NEXT, err)) != 0)
		return r;
	if ((old = calloc(1, sizeof *old)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((r = load_signer(in, INSTANCE_LOG_KEY_NEXT, &signer, err)) != 0 ||
	    (r = note_signer_verifier(signer, &v, err)) != 0 || (r = note_verifier_format(v, &vkey, err)) != 0)
		goto out;
	/* the old key signs nothing more: its bytes go before its name does */
	if ((r = erase_file(cur, err)) != 0)
		goto out;
	if (rename(next, cur) != 0) {
		r = bw_err_set(err, BW_EIO, "cannot rename %s to %s: %s", next, cur, strerror(errno));
		goto out;
	}
	if ((r = bw_fsync_dir(cur, false, err)) != 0)
		goto out;
	if (in->log_signer != NULL) {
		note_signer_free(in->log_signer);
		in->log_signer = signer;
		signer = NULL;
	}
	/* readers on other threads may hold the old ones: kept until close */
	old->v = in->log_verifier;
	old->vkey = in->log_vkey;
	old->next = in->log_retired;
	in->log_retired = old;
	old = NULL;
	__atomic_store_n(&in->log_verifier, v, __ATOMIC_RELEASE);
	__atomic_store_n(&in->log_vkey, vkey, __ATOMIC_RELEASE);
	v = NULL;
	vkey = NULL;
out:
	free(old);
	note_signer_free(signer);
	note_verifier_free(v);
	free(vkey);
	return r;
}
