/*
 * tlog/rekey.c: handing the log over to its next key (the key transition's
 * writer side; keychain.c is the verifier's). Order on disk: the
 * transition's proof, then the handover checkpoint, then log.vkey; each
 * atomic and durable, so that a crash leaves either the old state or a
 * state the same call finishes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

const struct note_signer *
tlog_store_signer(const struct tlog_store *s)
{
	return s->signer;
}

/* The tlog-proof of the last entry under note (the handover checkpoint), the entry riding as extra. */
static int
transition_proof(struct tlog_store *s, const char *note, char **out, size_t *outlen, struct bw_err *err)
{
	struct tlog_proof_file pf = { 0 };
	struct tlog_tiles *t = NULL;
	uint64_t size = s->f.size;
	int r;

	if ((r = tlog_tiles_open(s->dir, &t, err)) == 0 &&
	    (r = tlog_tiles_read_entry(t, size, size - 1, &pf.extra, &pf.extra_len, err)) == 0) {
		struct tlog_reader rd = tlog_tiles_reader(t, size);
		pf.index = size - 1;
		if ((r = tlog_prove_inclusion(s->h, &rd, pf.index, size, &pf.proof, err)) == 0) {
			pf.checkpoint = (char *)note;	/* borrowed */
			pf.checkpoint_len = strlen(note);
			r = tlog_proof_file_format(&pf, out, outlen, err);
			pf.checkpoint = NULL;
		}
	}
	tlog_proof_file_clear(&pf);
	tlog_tiles_free(t);
	return r;
}

int
tlog_store_rekey(struct tlog_store *s, struct note_signer *next, struct bw_err *err)
{
	char path[PATH_MAX], *note = NULL, *proof = NULL, *vkey = NULL, *old;
	struct note_verifier *nv = NULL;
	size_t nlen, plen;
	uint64_t size = s->f.size;
	int r;

	if (atomic_load(&s->failed)) {
		r = bw_err_set(err, BW_EIO, "the log store failed earlier; reopen it to recover");
		goto out;
	}
	if (size == 0 || atomic_load(&s->committed) != size || atomic_load(&s->sequenced) != size || s->next != size) {
		r = bw_err_set(err, BW_ECONFLICT,
			       "a key transition needs its entry integrated last, nothing after it (log: %llu integrated, "
			       "%llu sequenced, %llu appended)",
			       (unsigned long long)atomic_load(&s->committed), (unsigned long long)atomic_load(&s->sequenced),
			       (unsigned long long)s->next);
		goto out;
	}
	{
		/* verifiers follow at most TLOG_KEYCHAIN_MAX - 1 transitions (this one again, after a stop, is not another) */
		uint64_t *sizes = NULL;
		size_t n = 0;
		bool again;
		r = tlog_transitions_list(s->dir, &sizes, &n, err);
		again = r == 0 && n > 0 && sizes[n - 1] == size;
		free(sizes);
		if (r == 0 && !again && n >= TLOG_KEYCHAIN_MAX - 1)
			r = bw_err_set(err, BW_ERANGE, "the log had %zu key transitions: verifiers follow at most %d", n,
				       TLOG_KEYCHAIN_MAX - 1);
		if (r != 0)
			goto out;
	}
	if (next->alg != NOTE_ALG_ED25519 || strcmp(next->name, s->signer->name) != 0 ||
	    memcmp(next->key.pk, s->signer->key.pk, sizeof next->key.pk) == 0) {
		r = bw_err_set(err, BW_EINVAL, "the next key must be another Ed25519 key named '%s'", s->signer->name);
		goto out;
	}
	if ((r = note_signer_verifier(next, &nv, err)) != 0 || (r = note_verifier_format(nv, &vkey, err)) != 0)
		goto out;
	/* the handover: the same tree, signed by the key that signed it and by the next one */
	if ((r = store_sign_checkpoint(s, next, &note, &nlen, err)) != 0 ||
	    (r = transition_proof(s, note, &proof, &plen, err)) != 0)
		goto out;
	if ((r = store_join(path, sizeof path, s->dir, TLOG_TRANSITIONS_DIR, err)) != 0 ||
	    (r = bw_mkdir_p(path, 0755, err)) != 0)
		goto out;
	if ((size_t)snprintf(path, sizeof path, "%s/%s/%llu.tlog-proof", s->dir, TLOG_TRANSITIONS_DIR,
			     (unsigned long long)size) >= sizeof path) {
		r = bw_err_set(err, BW_ERANGE, "path too long");
		goto out;
	}
	if ((r = bw_file_write_atomic(path, proof, plen, 0644, err)) != 0 ||
	    (r = bw_fsync_dir(s->dir, true, err)) != 0 ||	/* the transitions directory's own entry */
	    (r = store_join(path, sizeof path, s->dir, TLOG_CHECKPOINT_FILE, err)) != 0 ||
	    (r = bw_file_write_atomic(path, note, nlen, 0644, err)) != 0 || (r = store_write_vkey(s->dir, vkey, err)) != 0)
		goto out;
	/* From now on only next signs. */
	pthread_mutex_lock(&s->mu);
	old = s->checkpoint;
	s->checkpoint = note;
	note = NULL;
	note_signer_free(s->signer);
	s->signer = next;
	next = NULL;
	note_verifier_free(s->verifier);
	s->verifier = nv;
	nv = NULL;
	pthread_mutex_unlock(&s->mu);
	free(old);
out:
	if (r != 0 && err->code == 0)
		bw_err_set(err, r, "key transition failed");
	note_signer_free(next);
	note_verifier_free(nv);
	free(note);
	free(proof);
	free(vkey);
	return r;
}
