/*
 * The log key's transitions: the handover (tlog_store_rekey) and the chain
 * a verifier follows (tlog_keychain_*): each key accepted only for its
 * sizes, a transition refused unless the key before it and the key it
 * names both signed its handover and its entry names that key, and the
 * audit following the chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tlog/tlog.h"

#define ORIGIN "bulwark.test/keys"

static char dir[64];

static int
make_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/bw_keys_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	strcat(dir, "/log");
	return bw_crypto_init(NULL);
}

static int
remove_dir(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(strlen(dir) - 4), dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The test's transition entries: "next-key <vkey>". */
static int
entry_key(void *ctx, const uint8_t *entry, size_t len, char **vkey, struct bw_err *err)
{
	(void)ctx;
	if (len < 9 || memcmp(entry, "next-key ", 9) != 0)
		return bw_err_set(err, BW_EVERIFY, "not a transition entry");
	*vkey = strndup((const char *)entry + 9, len - 9);
	return *vkey ? 0 : BW_ENOMEM;
}

/* Like entry_key, but names the key in ctx whatever the entry says (a verifier misled about the entry). */
static int
entry_key_other(void *ctx, const uint8_t *entry, size_t len, char **vkey, struct bw_err *err)
{
	(void)entry;
	(void)len;
	(void)err;
	*vkey = strdup(ctx);
	return 0;
}

static void
append(struct tlog_store *s, const char *text)
{
	struct bw_err err = { 0 };
	uint64_t idx;

	assert_int_equal(tlog_store_append(s, text, strlen(text), &idx, &err), 0);
}

static char *
read_text(const char *rel)
{
	char p[256];
	uint8_t *d;
	size_t n;
	struct bw_err err = { 0 };

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(bw_file_read(p, 1 << 20, &d, &n, &err), 0);
	d = realloc(d, n + 1);
	d[n] = '\0';
	return (char *)d;
}

static struct note_verifier *
verifier_of(const char *vkey)
{
	struct note_verifier *v = NULL;
	struct bw_err err = { 0 };

	assert_int_equal(note_verifier_parse(vkey, strlen(vkey), &v, &err), 0);
	return v;
}

/* A checkpoint of the tree of size (root taken from the log's own checkpoint of that size) signed by signer. */
static char *
forge(struct note_signer *signer, const struct tlog_checkpoint *real)
{
	char *body, *note;
	size_t blen, nlen;
	struct bw_err err = { 0 };

	assert_int_equal(tlog_checkpoint_format(real, &body, &blen, &err), 0);
	assert_int_equal(note_sign(body, blen, &signer, 1, &note, &nlen, &err), 0);
	free(body);
	return note;
}

static void
test_rekey_and_follow(void **state)
{
	struct bw_err err = { 0 };
	struct tlog_store *s = NULL;
	struct note_signer *old_signer = NULL, *next = NULL, *third = NULL;
	char *vkey0 = NULL, *skey1, *vkey1, *skey2, *vkey2, *cp_text, *vk_text, *proof, entry[600];
	struct tlog_keychain c;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_audit_result res;
	size_t ntrans = 0;
	struct bw_sha256 *h = NULL;
	uint8_t *keyfile;
	size_t klen;
	char p[256];

	(void)state;
	assert_int_equal(bw_sha256_new(&h, &err), 0);
	assert_int_equal(tlog_store_create(dir, ORIGIN, &vkey0, &err), 0);
	snprintf(p, sizeof p, "%s/%s", dir, TLOG_KEY_FILE);
	assert_int_equal(bw_file_read(p, 4096, &keyfile, &klen, &err), 0);
	assert_int_equal(note_signer_parse((char *)keyfile, klen - 1, &old_signer, &err), 0);
	free(keyfile);
	assert_int_equal(note_key_generate(ORIGIN, &skey1, &vkey1, &err), 0);
	assert_int_equal(note_key_generate(ORIGIN, &skey2, &vkey2, &err), 0);

	assert_int_equal(tlog_store_open(dir, &s, &err), 0);
	append(s, "a");
	append(s, "b");
	snprintf(entry, sizeof entry, "next-key %s", vkey1);
	append(s, entry);
	/* not integrated yet: refused, nothing changed */
	assert_int_equal(note_signer_parse(skey1, strlen(skey1), &next, &err), 0);
	assert_int_equal(tlog_store_sequence(s, &err), 0);
	assert_int_equal(tlog_store_rekey(s, next, &err), BW_ECONFLICT);
	assert_int_equal(tlog_store_integrate(s, &err), 0);
	/* the key in use again: refused */
	assert_int_equal(note_signer_parse((char *)skey1, strlen(skey1), &next, &err), 0);
	{
		struct note_signer *same = NULL;
		snprintf(p, sizeof p, "%s/%s", dir, TLOG_KEY_FILE);
		assert_int_equal(bw_file_read(p, 4096, &keyfile, &klen, &err), 0);
		assert_int_equal(note_signer_parse((char *)keyfile, klen - 1, &same, &err), 0);
		free(keyfile);
		assert_int_equal(tlog_store_rekey(s, same, &err), BW_EINVAL);
	}
	assert_int_equal(tlog_store_rekey(s, next, &err), 0);
	assert_string_equal(tlog_store_signer(s)->name, ORIGIN);
	/* the handover: the checkpoint of size 3, signed by both keys; log.vkey is the next key */
	cp_text = read_text(TLOG_CHECKPOINT_FILE);
	assert_non_null(strstr(cp_text, ORIGIN "\n3\n"));
	{
		struct note_verifier *v0 = verifier_of(vkey0), *v1 = verifier_of(vkey1);
		assert_int_equal(tlog_checkpoint_open((uint8_t *)cp_text, strlen(cp_text), &v0, 1, &cp, &err), 0);
		tlog_checkpoint_clear(&cp);
		assert_int_equal(tlog_checkpoint_open((uint8_t *)cp_text, strlen(cp_text), &v1, 1, &cp, &err), 0);
		tlog_checkpoint_clear(&cp);
		note_verifier_free(v0);
		note_verifier_free(v1);
	}
	vk_text = read_text(TLOG_VKEY_FILE);
	assert_true(strncmp(vk_text, vkey1, strlen(vkey1)) == 0);
	proof = read_text(TLOG_TRANSITIONS_DIR "/3.tlog-proof");
	/* after it, only the next key signs */
	append(s, "d");
	append(s, "e");
	assert_int_equal(tlog_store_commit(s, &err), 0);
	tlog_store_close(s);
	s = NULL;
	free(cp_text);
	cp_text = read_text(TLOG_CHECKPOINT_FILE);
	{
		struct note_verifier *v0 = verifier_of(vkey0);
		assert_int_equal(tlog_checkpoint_open((uint8_t *)cp_text, strlen(cp_text), &v0, 1, &cp, &err), BW_EVERIFY);
		note_verifier_free(v0);
	}

	/* a verifier pinned to the first key follows the transition */
	assert_int_equal(tlog_keychain_load(dir, verifier_of(vkey0), entry_key, NULL, &c, &ntrans, &err), 0);
	assert_true(ntrans == 1 && c.n == 2 && c.from[0] == 0 && c.from[1] == 3);
	assert_int_equal(tlog_keychain_open(&c, (uint8_t *)cp_text, strlen(cp_text), &cp, &err), 0);
	assert_true(cp.size == 5);
	{
		/* each key only for its sizes: the old key past the handover, the new key before it */
		struct tlog_checkpoint at5 = cp, at2 = { 0 };
		char *f;
		f = forge(old_signer, &at5);
		assert_int_equal(tlog_keychain_open(&c, (uint8_t *)f, strlen(f), &at2, &err), BW_EVERIFY);
		free(f);
		at2 = at5;
		at2.size = 2;
		assert_int_equal(note_signer_parse(skey1, strlen(skey1), &next, &err), 0);
		f = forge(next, &at2);
		assert_int_equal(tlog_keychain_open(&c, (uint8_t *)f, strlen(f), &at5, &err), BW_EVERIFY);
		free(f);
		f = forge(old_signer, &at2);	/* the old key below the handover: its epoch */
		assert_int_equal(tlog_keychain_open(&c, (uint8_t *)f, strlen(f), &at5, &err), 0);
		tlog_checkpoint_clear(&at5);
		free(f);
		note_signer_free(next);
	}
	tlog_checkpoint_clear(&cp);
	/* the audit follows the chain; with the first key alone the latest checkpoint is not its to sign */
	assert_int_equal(tlog_audit(dir, &c, NULL, 0, NULL, NULL, &res, &err), 0);
	assert_true(res.signature_ok && res.root_ok && res.tiles_ok && res.checked == 5);
	tlog_keychain_clear(&c);
	{
		struct tlog_keychain one;
		tlog_keychain_init_key(&one, verifier_of(vkey0));
		assert_int_equal(tlog_audit(dir, &one, NULL, 0, NULL, NULL, &res, &err), BW_EVERIFY);
		assert_false(res.signature_ok);
		tlog_keychain_clear(&one);
	}
	/* pinned to the later key: the chain starts at its handover */
	assert_int_equal(tlog_keychain_load(dir, verifier_of(vkey1), entry_key, NULL, &c, &ntrans, &err), 0);
	assert_true(c.n == 1 && c.from[0] == 3);
	tlog_keychain_clear(&c);

	/* a transition whose entry is read as naming another key: the handover was not signed by it */
	assert_int_equal(tlog_keychain_init(&c, vkey0, strlen(vkey0), &err), 0);
	assert_int_equal(tlog_keychain_follow(&c, h, (uint8_t *)proof, strlen(proof), entry_key_other, vkey2, NULL, &err),
			 BW_EVERIFY);
	assert_non_null(strstr(err.msg, "by the new key"));
	assert_true(c.n == 1);
	/* a transition presented to a verifier that does not hold the key before it */
	tlog_keychain_clear(&c);
	assert_int_equal(tlog_keychain_init(&c, vkey2, strlen(vkey2), &err), 0);
	assert_int_equal(tlog_keychain_follow(&c, h, (uint8_t *)proof, strlen(proof), entry_key, NULL, NULL, &err),
			 BW_EVERIFY);
	tlog_keychain_clear(&c);
	/* an entry that is not a transition */
	assert_int_equal(tlog_keychain_init(&c, vkey0, strlen(vkey0), &err), 0);
	{
		char *bad = strdup(proof), *x = strstr(bad, "extra ");
		assert_non_null(x);
		memcpy(x + 6, "YQ==\n", 5);	/* extra "a": the proof no longer leads to the root either */
		memmove(x + 11, strchr(x + 6, '\n') + 1, strlen(strchr(x + 6, '\n') + 1) + 1);
		assert_int_not_equal(tlog_keychain_follow(&c, h, (uint8_t *)bad, strlen(bad), entry_key, NULL, NULL, &err),
				     0);
		free(bad);
	}
	tlog_keychain_clear(&c);

	/* the next key opens the log; a second rotation chains on */
	assert_int_equal(note_signer_parse(skey1, strlen(skey1), &next, &err), 0);
	assert_int_equal(tlog_store_open_signed(dir, next, &s, &err), 0);
	snprintf(entry, sizeof entry, "next-key %s", vkey2);
	append(s, entry);
	assert_int_equal(tlog_store_commit(s, &err), 0);
	assert_int_equal(note_signer_parse(skey2, strlen(skey2), &third, &err), 0);
	assert_int_equal(tlog_store_rekey(s, third, &err), 0);
	append(s, "g");
	assert_int_equal(tlog_store_commit(s, &err), 0);
	tlog_store_close(s);
	assert_int_equal(tlog_keychain_load(dir, verifier_of(vkey0), entry_key, NULL, &c, &ntrans, &err), 0);
	assert_true(ntrans == 2 && c.n == 3 && c.from[1] == 3 && c.from[2] == 6);
	assert_int_equal(tlog_audit(dir, &c, NULL, 0, NULL, NULL, &res, &err), 0);
	tlog_keychain_clear(&c);

	/* a transitions directory holding something else is refused, naming it */
	snprintf(p, sizeof p, "touch '%s/%s/7.proof'", dir, TLOG_TRANSITIONS_DIR);
	assert_int_equal(system(p), 0);
	assert_int_equal(tlog_keychain_load(dir, verifier_of(vkey0), entry_key, NULL, &c, &ntrans, &err), BW_ECORRUPT);
	assert_non_null(strstr(err.msg, "7.proof"));

	note_signer_free(old_signer);
	bw_sha256_free(h);
	free(vkey0);
	free(skey1);
	free(vkey1);
	free(skey2);
	free(vkey2);
	free(cp_text);
	free(vk_text);
	free(proof);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rekey_and_follow, make_dir, remove_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
