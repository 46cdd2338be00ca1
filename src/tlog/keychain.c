/*
 * tlog/keychain.c: the log's keys over time, as a verifier learns them.
 * A verifier pins the first key; each later key is accepted only through
 * its transition (an entry of the log naming it, under a handover
 * checkpoint signed by the key before it and by it), and only for the
 * checkpoint sizes of its epoch.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog.h"

#define PROOF_SUFFIX ".tlog-proof"

int
tlog_keychain_init(struct tlog_keychain *c, const char *vkey, size_t len, struct bw_err *err)
{
	int r;

	memset(c, 0, sizeof *c);
	if ((r = note_verifier_parse(vkey, len, &c->key[0], err)) != 0)
		return bw_err_prefix(err, "the log's first key");
	if (c->key[0]->alg != NOTE_ALG_ED25519) {
		note_verifier_free(c->key[0]);
		c->key[0] = NULL;
		return bw_err_set(err, BW_EINVAL, "the log's first key is not an Ed25519 note key");
	}
	c->n = 1;
	return 0;
}

void
tlog_keychain_init_key(struct tlog_keychain *c, struct note_verifier *v)
{
	memset(c, 0, sizeof *c);
	c->key[0] = v;
	c->n = 1;
}

void
tlog_keychain_clear(struct tlog_keychain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		note_verifier_free(c->key[i]);
	memset(c, 0, sizeof *c);
}

/* The key(s) that may sign a checkpoint of size: its epoch's, and at a handover also the one before. */
static size_t
keys_for(const struct tlog_keychain *c, uint64_t size, struct note_verifier **out)
{
	size_t i = c->n - 1, k = 0;

	while (i > 0 && c->from[i] > size)
		i--;
	out[k++] = c->key[i];
	if (i > 0 && c->from[i] == size)
		out[k++] = c->key[i - 1];
	return k;
}

/* The size a checkpoint note claims (not verified yet: only to pick the keys). */
static int
claimed_size(const uint8_t *note, size_t len, uint64_t *size, struct bw_err *err)
{
	struct note *n = NULL;
	struct tlog_checkpoint cp = { 0 };
	int r;

	if ((r = note_parse(note, len, &n, err)) != 0)
		return bw_err_prefix(err, "checkpoint");
	if ((r = tlog_checkpoint_parse(n->text, n->text_len, &cp, err)) == 0)
		*size = cp.size;
	tlog_checkpoint_clear(&cp);
	note_free(n);
	return r;
}

int
tlog_keychain_open(const struct tlog_keychain *c, const uint8_t *note, size_t len, struct tlog_checkpoint *cp,
		   struct bw_err *err)
{
	struct note_verifier *keys[2];
	uint64_t size = 0;
	int r;

	memset(cp, 0, sizeof *cp);
	if (c->n == 0)
		return bw_err_set(err, BW_EINVAL, "no log key");
	if ((r = claimed_size(note, len, &size, err)) != 0)
		return r;
	if ((r = tlog_checkpoint_open(note, len, keys, keys_for(c, size, keys), cp, err)) != 0 && c->n > 1)
		bw_err_prefix(err, "size %llu, under the log's key for that size (%zu keys known)", (unsigned long long)size,
			      c->n);
	return r;
}

int
tlog_keychain_verify_proof(struct bw_sha256 *h, const struct tlog_keychain *c, const struct tlog_proof_file *pf,
			   const void *entry, size_t len, struct tlog_checkpoint *cp, struct bw_err *err)
{
	struct note_verifier *keys[2];
	uint64_t size = 0;
	int r;

	if (c->n == 0)
		return bw_err_set(err, BW_EINVAL, "no log key");
	if ((r = claimed_size((const uint8_t *)pf->checkpoint, pf->checkpoint_len, &size, err)) != 0)
		return r;
	return tlog_proof_file_verify(h, pf, keys, keys_for(c, size, keys), entry, len, cp, err);
}

int
tlog_keychain_follow(struct tlog_keychain *c, struct bw_sha256 *h, const uint8_t *proof, size_t len,
		     tlog_transition_fn fn, void *ctx, struct tlog_checkpoint *handover, struct bw_err *err)
{
	struct tlog_proof_file pf = { 0 };
	struct tlog_checkpoint cp = { 0 }, again = { 0 };
	struct note_verifier *last, *next = NULL;
	char *vkey = NULL;
	size_t i;
	int r;

	if (handover != NULL)
		memset(handover, 0, sizeof *handover);
	if (c->n == 0)
		return bw_err_set(err, BW_EINVAL, "no log key");
	if (c->n == TLOG_KEYCHAIN_MAX)
		return bw_err_set(err, BW_ERANGE, "more than %d key transitions", TLOG_KEYCHAIN_MAX - 1);
	last = c->key[c->n - 1];
	if ((r = tlog_proof_file_parse(proof, len, &pf, err)) != 0)
		return r;
	if (pf.extra == NULL) {
		r = bw_err_set(err, BW_EVERIFY, "the transition's proof carries no entry");
		goto out;
	}
	/* the handover checkpoint, signed by the key that signs now, with the entry at its last index */
	if ((r = tlog_proof_file_verify(h, &pf, &last, 1, pf.extra, pf.extra_len, &cp, err)) != 0) {
		bw_err_prefix(err, "the transition (by the log's current key)");
		goto out;
	}
	if (cp.size <= c->from[c->n - 1] || pf.index != cp.size - 1) {
		r = bw_err_set(err, BW_EVERIFY,
			       "the transition's entry %llu is not the last of its handover checkpoint (size %llu) past the "
			       "last transition (size %llu)",
			       (unsigned long long)pf.index, (unsigned long long)cp.size,
			       (unsigned long long)c->from[c->n - 1]);
		goto out;
	}
	if ((r = fn(ctx, pf.extra, pf.extra_len, &vkey, err)) != 0) {
		bw_err_prefix(err, "the transition's entry %llu", (unsigned long long)pf.index);
		goto out;
	}
	if ((r = note_verifier_parse(vkey, strlen(vkey), &next, err)) != 0) {
		bw_err_prefix(err, "the key the transition names");
		goto out;
	}
	if (c->n == 1 && c->from[0] == 0 && memcmp(next->pk, last->pk, sizeof next->pk) == 0 && next->alg == last->alg) {
		/* the key pinned is a later one: it signs from this handover on (the epochs before are not checked) */
		c->from[0] = cp.size;
		if (handover != NULL) {
			*handover = cp;
			memset(&cp, 0, sizeof cp);
		}
		goto out;
	}
	if (next->alg != NOTE_ALG_ED25519 || strcmp(next->name, last->name) != 0) {
		r = bw_err_set(err, BW_EVERIFY, "the key the transition names is not an Ed25519 key of the log '%s'",
			       last->name);
		goto out;
	}
	for (i = 0; i < c->n; i++)
		if (memcmp(c->key[i]->pk, next->pk, sizeof next->pk) == 0) {
			r = bw_err_set(err, BW_EVERIFY, "the transition names a key the log had before");
			goto out;
		}
	/* ...and by the key it names: the new key has taken it over */
	if ((r = tlog_checkpoint_open((const uint8_t *)pf.checkpoint, pf.checkpoint_len, &next, 1, &again, err)) != 0) {
		bw_err_prefix(err, "the handover checkpoint (by the new key)");
		goto out;
	}
	c->key[c->n] = next;
	c->from[c->n] = cp.size;
	c->n++;
	next = NULL;
	if (handover != NULL) {
		*handover = cp;
		memset(&cp, 0, sizeof cp);
	}
out:
	note_verifier_free(next);
	free(vkey);
	tlog_checkpoint_clear(&cp);
	tlog_checkpoint_clear(&again);
	tlog_proof_file_clear(&pf);
	return r;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
tlog_transitions_list(const char *dir, uint64_t **sizes, size_t *n, struct bw_err *err)
{
	char path[4096];
	DIR *d;
	struct dirent *e;
	uint64_t *v = NULL;
	size_t k = 0;
	int r = 0;

	*sizes = NULL;
	*n = 0;
	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, TLOG_TRANSITIONS_DIR) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "path too long");
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "cannot read %s: %s", path, strerror(errno));
	if ((v = calloc(TLOG_KEYCHAIN_MAX, sizeof *v)) == NULL) {
		closedir(d);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name), sl = strlen(PROOF_SUFFIX);
		uint64_t size;
		if (e->d_name[0] == '.' || (nl > 4 && strcmp(e->d_name + nl - 4, ".tmp") == 0))
			continue;	/* an atomic write a crash interrupted */
		if (nl <= sl || strcmp(e->d_name + nl - sl, PROOF_SUFFIX) != 0 || e->d_name[0] == '0' ||
		    bw_parse_u64(e->d_name, nl - sl, &size) != 0)
			r = bw_err_set(err, BW_ECORRUPT, "%s: '%.64s' is not <size>%s", path, e->d_name, PROOF_SUFFIX);
		else if (k == TLOG_KEYCHAIN_MAX - 1)
			r = bw_err_set(err, BW_ERANGE, "%s: more than %d transitions", path, TLOG_KEYCHAIN_MAX - 1);
		else
			v[k++] = size;
	}
	closedir(d);
	if (r != 0 || k == 0) {
		free(v);
		return r;
	}
	qsort(v, k, sizeof *v, cmp_u64);
	*sizes = v;
	*n = k;
	return 0;
}

int
tlog_keychain_load(const char *dir, struct note_verifier *first, tlog_transition_fn fn, void *ctx,
		   struct tlog_keychain *c, size_t *ntransitions, struct bw_err *err)
{
	char path[4096];
	uint64_t *sizes = NULL;
	struct tlog_hash *roots = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_tiles *t = NULL;
	struct bw_sha256 *h = NULL;
	uint8_t *data = NULL;
	size_t n = 0, i, dlen;
	int r;

	if (ntransitions != NULL)
		*ntransitions = 0;
	tlog_keychain_init_key(c, first);
	if ((r = tlog_transitions_list(dir, &sizes, &n, err)) != 0 || (r = bw_sha256_new(&h, err)) != 0)
		goto out;
	if (n > 0 && (roots = calloc(n, sizeof *roots)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct tlog_checkpoint ho = { 0 };
		snprintf(path, sizeof path, "%s/%s/%llu%s", dir, TLOG_TRANSITIONS_DIR, (unsigned long long)sizes[i],
			 PROOF_SUFFIX);
		if ((r = bw_file_read(path, TLOG_PROOF_FILE_MAX, &data, &dlen, err)) != 0)
			goto out;
		r = tlog_keychain_follow(c, h, data, dlen, fn, ctx, &ho, err);
		free(data);
		data = NULL;
		if (r == 0 && ho.size != sizes[i])
			r = bw_err_set(err, BW_ECORRUPT, "its handover checkpoint has size %llu", (unsigned long long)ho.size);
		roots[i] = ho.root;
		tlog_checkpoint_clear(&ho);
		if (r != 0) {
			bw_err_prefix(err, "%s", path);
			goto out;
		}
	}
	if (n == 0)
		goto out;
	/* Each handover is a state of this log: its root is the tree's at that size. */
	snprintf(path, sizeof path, "%s/%s", dir, TLOG_CHECKPOINT_FILE);
	if ((r = bw_file_read(path, NOTE_MAX_SIZE, &data, &dlen, err)) != 0 ||
	    (r = tlog_keychain_open(c, data, dlen, &cp, err)) != 0) {
		bw_err_prefix(err, "%s", path);
		goto out;
	}
	if ((r = tlog_tiles_open(dir, &t, err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct tlog_reader rd = tlog_tiles_reader(t, cp.size);
		struct tlog_hash root;
		if (sizes[i] > cp.size) {
			r = bw_err_set(err, BW_ECORRUPT, "the key transition at size %llu is past the log's checkpoint (%llu)",
				       (unsigned long long)sizes[i], (unsigned long long)cp.size);
			goto out;
		}
		if ((r = tlog_tree_hash(h, &rd, sizes[i], &root, err)) != 0)
			goto out;
		if (!tlog_hash_equal(&root, &roots[i])) {
			r = bw_err_set(err, BW_EVERIFY, "the key transition's handover checkpoint of size %llu is not this "
				       "log's tree at that size (another history)", (unsigned long long)sizes[i]);
			goto out;
		}
	}
out:
	if (r == 0 && ntransitions != NULL)
		*ntransitions = n;
	if (r != 0)
		tlog_keychain_clear(c);
	free(data);
	free(sizes);
	free(roots);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
	return r;
}
