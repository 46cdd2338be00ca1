/*
 * cli/cmd_patch.c: offline TUF key and metadata tools (run on the air-gapped
 * signing machine): keygen, root init, sign, verify.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "patch/patch.h"

static const char patch_usage[] =
    "usage: bulwark patch keygen --out KEYFILE\n"
    "       bulwark patch root init --out ROOT.json --root-key KEY [--root-key KEY...] --threshold K\n"
    "                               [--targets-key KEY...] [--targets-threshold K]\n"
    "                               --snapshot-key KEY --timestamp-key KEY [--expires-days N]\n"
    "                               [--version N]   (a rotation: N = previous version + 1)\n"
    "       bulwark patch add FILE --targets TARGETS.json --version V [--name NAME]\n"
    "                         [--hosts H[,H] | --group G] [--expires-days N]\n"
    "       bulwark patch snapshot --targets TARGETS.json --out SNAPSHOT.json --version N [--expires-days N]\n"
    "       bulwark patch timestamp --snapshot SNAPSHOT.json --out TIMESTAMP.json --version N [--expires-days N]\n"
    "       bulwark patch sign --key KEYFILE [--role root|targets|snapshot|timestamp] METADATA.json\n"
    "       bulwark patch verify --root ROOT.json --role ROLE METADATA.json\n"
    "       bulwark patch verify-rotation OLD-ROOT.json NEW-ROOT.json\n"
    "       bulwark patch canonical FILE.json      (prints the canonical JSON that TUF signs)\n"
    "  on the server (HTTPS API):\n"
    "       bulwark patch keys --out DIR [--rotate | --next]   (the server's online keys and log key; staged ones)\n"
    "       bulwark patch publish --targets TARGETS.json [--root ROOT.json] [FILE...]\n"
    "       bulwark patch status [--json]           (published targets, hosts' latest reports)\n"
    "\n"
    "Keys are Ed25519. KEYFILE holds the private key (mode 0600; keep it offline); KEY may be a\n"
    "KEYFILE or a public key file printed by keygen. Metadata is TUF 1.0 JSON signed over\n"
    "canonical JSON; sign adds (or replaces) this key's signature in place.\n";

#define MAX_KEYS 16

/* Loads a key file: private ({"keytype","scheme","keyval":{"public","private"}}) or public. */
static int
load_key(const char *path, struct bw_ed25519 *priv, uint8_t pk[32], json_t **pubobj, struct bw_err *err)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *kv;
	const char *ph;
	uint8_t seed[32];
	int r = 0;

	if (j == NULL)
		return bw_err_set(err, BW_EINVAL, "%s: %s (line %d)", path, jerr.text, jerr.line);
	kv = json_object_get(j, "keyval");
	ph = kv ? json_string_value(json_object_get(kv, "private")) : NULL;
	if (ph != NULL) {
		if (priv == NULL) {
			r = bw_err_set(err, BW_EINVAL, "%s", "internal: private key not expected");
		} else if (strlen(ph) != 64 || bw_hex_decode(ph, 64, seed, 32) != 0 ||
			   bw_ed25519_from_seed(priv, seed, err) != 0) {
			r = bw_err_set(err, BW_EINVAL, "%s: keyval.private must be 64 hex digits", path);
		} else {
			memcpy(pk, priv->pk, 32);
		}
		bw_memzero(seed, sizeof seed);
		json_object_del(kv, "private");
	}
	/* keygen prints the keyid beside the key: accept it when it is the key's own. */
	if (r == 0 && json_object_get(j, "keyid") != NULL) {
		char id[65];
		json_t *kid = json_incref(json_object_get(j, "keyid"));
		json_object_del(j, "keyid");
		if (patch_key_id(j, id, err) != 0 || !json_is_string(kid) || strcmp(json_string_value(kid), id) != 0)
			r = bw_err_set(err, BW_EINVAL, "%s: keyid does not match the key", path);
		json_decref(kid);
	}
	if (r == 0 && (r = patch_key_parse(j, pk, err)) != 0)
		bw_err_prefix(err, "%s", path);
	if (r == 0 && priv != NULL && priv->sk != NULL && memcmp(priv->pk, pk, 32) != 0)
		r = bw_err_set(err, BW_EINVAL, "%s: public and private key do not match", path);
	if (r == 0 && pubobj != NULL)
		*pubobj = patch_key_object(pk);
	json_decref(j);
	return r;
}

static int
patch_keygen(struct cli_args *a)
{
	const char *out;
	char *pos[1], id[65], seedhex[65], pkhex[65], *text;
	size_t npos;
	struct bw_ed25519 k = { 0 };
	uint8_t seed[32];
	struct bw_err err = { 0 };
	json_t *pub;
	int rc = CLI_FAIL;

	if (cli_opt(a, "--out", &out) || cli_positional(a, pos, 0, &npos) || out == NULL) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if (bw_ed25519_generate(&k, &err) != 0)
		return cli_fail("keygen", &err);
	bw_ed25519_seed(&k, seed);
	bw_hex_encode(seedhex, seed, 32);
	bw_hex_encode(pkhex, k.pk, 32);
	pub = patch_key_object(k.pk);
	if (patch_key_id(pub, id, &err) != 0) {
		cli_fail("keygen", &err);
		goto out;
	}
	{
		char buf[512];
		int n = snprintf(buf, sizeof buf,
				 "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"%s\",\"private\":\"%s\"}}\n",
				 pkhex, seedhex);
		int w = bw_file_create_secret(out, buf, (size_t)n, &err);
		bw_memzero(buf, sizeof buf);
		if (w != 0) {
			cli_errorf("keygen: cannot create %s (%s; it must not exist)", out, err.msg);
			goto out;
		}
	}
	json_object_set_new(pub, "keyid", json_string(id));
	text = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", text);
	free(text);
	rc = CLI_OK;
out:
	bw_memzero(seed, sizeof seed);
	bw_memzero(seedhex, sizeof seedhex);
	bw_ed25519_free(&k);
	json_decref(pub);
	return rc;
}

/* Adds keys (files) to root's "keys" and returns their keyids as an array. */
static json_t *
role_keys(json_t *keys, const char **files, size_t n, struct bw_err *err)
{
	json_t *ids = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t pk[32];
		json_t *pub = NULL;
		char id[65];
		struct bw_ed25519 priv = { 0 };
		if (load_key(files[i], &priv, pk, &pub, err) != 0 || patch_key_id(pub, id, err) != 0) {
			bw_ed25519_free(&priv);
			json_decref(pub);
			json_decref(ids);
			return NULL;
		}
		bw_ed25519_free(&priv);
		json_object_set_new(keys, id, pub);
		json_array_append_new(ids, json_string(id));
	}
	return ids;
}

static int
patch_root_init(struct cli_args *a)
{
	const char *out, *thr_s, *tthr_s, *days_s, *ver_s, *rk[MAX_KEYS], *tk[MAX_KEYS], *sk[MAX_KEYS], *tsk[MAX_KEYS];
	size_t nr, nt, ns, nts, npos;
	uint64_t thr = 0, tthr = 1, days = 365, version = 1;
	char *pos[1], expires[32], *text = NULL;
	struct bw_err err = { 0 };
	json_t *keys = json_object(), *rids, *tids, *sids, *tsids, *root;
	time_t t;
	struct tm tm;

	if (cli_opt(a, "--out", &out) || cli_opt(a, "--threshold", &thr_s) || cli_opt(a, "--targets-threshold", &tthr_s) ||
	    cli_opt(a, "--expires-days", &days_s) || cli_opt(a, "--version", &ver_s) ||
	    cli_opt_all(a, "--root-key", rk, MAX_KEYS, &nr) ||
	    cli_opt_all(a, "--targets-key", tk, MAX_KEYS, &nt) || cli_opt_all(a, "--snapshot-key", sk, MAX_KEYS, &ns) ||
	    cli_opt_all(a, "--timestamp-key", tsk, MAX_KEYS, &nts) || cli_positional(a, pos, 0, &npos))
		goto usage;
	if (out == NULL || thr_s == NULL || nr == 0 || ns == 0 || nts == 0)
		goto usage;
	if (cli_parse_range("--threshold", thr_s, 1, nr, &thr) ||
	    (days_s && cli_parse_range("--expires-days", days_s, 1, 3650, &days)) ||
	    (ver_s && cli_parse_range("--version", ver_s, 1, INT32_MAX, &version)))
		goto usage_quiet;
	if (nt == 0) {	/* targets signed by the root keys unless given its own */
		memcpy(tk, rk, nr * sizeof *rk);
		nt = nr;
		tthr = thr;
	}
	if (tthr_s && cli_parse_range("--targets-threshold", tthr_s, 1, nt, &tthr))
		goto usage_quiet;
	if ((rids = role_keys(keys, rk, nr, &err)) == NULL || (tids = role_keys(keys, tk, nt, &err)) == NULL ||
	    (sids = role_keys(keys, sk, ns, &err)) == NULL || (tsids = role_keys(keys, tsk, nts, &err)) == NULL) {
		json_decref(keys);
		return cli_fail("root init", &err);
	}
	t = time(NULL) + (time_t)(days * 86400);
	gmtime_r(&t, &tm);
	strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
	root = json_pack("{s:{s:s, s:s, s:i, s:s, s:b, s:o, s:{s:{s:o, s:I}, s:{s:o, s:I}, s:{s:o, s:i}, s:{s:o, s:i}}},"
			 " s:[]}",
			 "signed", "_type", "root", "spec_version", "1.0.31", "version", (int)version, "expires", expires,
			 "consistent_snapshot", 1, "keys", keys, "roles", "root", "keyids", rids, "threshold",
			 (json_int_t)thr, "targets", "keyids", tids, "threshold", (json_int_t)tthr, "snapshot", "keyids", sids,
			 "threshold", 1, "timestamp", "keyids", tsids, "threshold", 1, "signatures");
	if (root == NULL || (text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL ||
	    bw_file_write_atomic(out, text, strlen(text), 0644, &err) != 0) {
		json_decref(root);
		free(text);
		return err.msg[0] ? cli_fail("root init", &err) : CLI_FAIL;
	}
	fprintf(stderr, "unsigned root (version %llu) written to %s; sign it with %llu of its root keys%s\n",
		(unsigned long long)version, out, (unsigned long long)thr,
		version > 1 ? " and a threshold of the previous root's" : "");
	json_decref(root);
	free(text);
	return CLI_OK;
usage:
	fputs(patch_usage, stderr);
usage_quiet:
	json_decref(keys);
	return CLI_USAGE;
}

static int
patch_sign_cmd(struct cli_args *a)
{
	const char *keyfile, *role = NULL;
	char *pos[1], *text = NULL;
	size_t npos;
	struct bw_ed25519 k = { 0 };
	uint8_t pk[32];
	struct bw_err err = { 0 };
	json_error_t jerr;
	json_t *md = NULL;
	int rc = CLI_FAIL;

	if (cli_opt(a, "--key", &keyfile) || cli_opt(a, "--role", &role) || cli_positional(a, pos, 1, &npos) ||
	    keyfile == NULL || npos != 1) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if (load_key(keyfile, &k, pk, NULL, &err) != 0 || k.sk == NULL) {
		if (err.msg[0] == '\0')
			bw_err_set(&err, BW_EINVAL, "%s holds no private key", keyfile);
		cli_fail("sign", &err);
		goto out;
	}
	if ((md = json_load_file(pos[0], JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		cli_errorf("sign: %s: %s (line %d)", pos[0], jerr.text, jerr.line);
		goto out;
	}
	if (role != NULL) {	/* guards against signing the wrong file with a key meant for another role */
		const char *type = json_string_value(json_object_get(json_object_get(md, "signed"), "_type"));
		if (type == NULL || strcmp(type, role) != 0) {
			cli_errorf("sign: %s is %s metadata, not %s", pos[0], type ? type : "not TUF", role);
			goto out;
		}
	}
	if (patch_sign(md, &k, &err) != 0 || (text = json_dumps(md, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL ||
	    bw_file_write_atomic(pos[0], text, strlen(text), 0644, &err) != 0) {
		cli_fail("sign", &err);
		goto out;
	}
	rc = CLI_OK;
out:
	bw_ed25519_free(&k);
	json_decref(md);
	free(text);
	return rc;
}

static int
patch_verify_cmd(struct cli_args *a)
{
	const char *rootf, *role;
	char *pos[1];
	size_t npos, valid = 0;
	struct bw_err err = { 0 };
	json_error_t jerr;
	json_t *root = NULL, *md = NULL;
	int rc = CLI_FAIL;

	if (cli_opt(a, "--root", &rootf) || cli_opt(a, "--role", &role) || cli_positional(a, pos, 1, &npos) ||
	    rootf == NULL || role == NULL || npos != 1) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if ((root = json_load_file(rootf, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    (md = json_load_file(pos[0], JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		cli_errorf("verify: %s (line %d)", jerr.text, jerr.line);
		goto out;
	}
	if (patch_verify_role(md, json_object_get(root, "signed"), role, &valid, &err) != 0) {
		cli_fail("verify", &err);
		goto out;
	}
	printf("OK: %s has %zu valid signature(s) of the keys root delegates it to\n", role, valid);
	rc = CLI_OK;
out:
	json_decref(root);
	json_decref(md);
	return rc;
}

static int
patch_add_cmd(struct cli_args *a)
{
	const char *tfile, *days_s, *name;
	struct patch_target_info info = { 0 };
	char *pos[1], *text = NULL;
	size_t npos;
	uint64_t days = 90, len;
	uint8_t sha[32];
	json_t *md = NULL;
	json_error_t jerr;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	if (cli_opt(a, "--targets", &tfile) || cli_opt(a, "--version", &info.version) || cli_opt(a, "--name", &name) ||
	    cli_opt(a, "--hosts", &info.hosts) || cli_opt(a, "--group", &info.group) ||
	    cli_opt(a, "--expires-days", &days_s) || cli_positional(a, pos, 1, &npos) || npos != 1 || tfile == NULL) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if (days_s && cli_parse_range("--expires-days", days_s, 1, 3650, &days))
		return CLI_USAGE;
	if (name == NULL) {
		const char *slash = strrchr(pos[0], '/');
		name = slash ? slash + 1 : pos[0];
	}
	info.name = name;
	if (patch_file_sha256(pos[0], sha, &len, &err) != 0) {
		cli_fail("add", &err);
		goto out;
	}
	if (access(tfile, F_OK) == 0 && (md = json_load_file(tfile, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		cli_errorf("add: %s: %s (line %d)", tfile, jerr.text, jerr.line);
		goto out;
	}
	if (patch_targets_add(&md, &info, sha, len, (int64_t)time(NULL), (int)days, &err) != 0 ||
	    (text = json_dumps(md, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL ||
	    bw_file_write_atomic(tfile, text, strlen(text), 0644, &err) != 0) {
		cli_fail("add", &err);
		goto out;
	}
	fprintf(stderr, "target %s (%llu bytes) added to %s, version %lld; sign it with the targets keys\n", name,
		(unsigned long long)len, tfile, (long long)json_integer_value(json_object_get(json_object_get(md, "signed"), "version")));
	rc = CLI_OK;
out:
	free(text);
	json_decref(md);
	return rc;
}

/* snapshot and timestamp: the online roles' metadata (the server makes these when publishing). */
static int
patch_online_cmd(struct cli_args *a, bool snapshot)
{
	const char *in, *outp, *ver_s, *days_s;
	char *pos[1], *text = NULL;
	size_t npos, len;
	uint64_t version = 0, days = snapshot ? 30 : 1;
	uint8_t *data = NULL;
	json_t *md = NULL, *src = NULL;
	json_error_t jerr;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	if (cli_opt(a, snapshot ? "--targets" : "--snapshot", &in) || cli_opt(a, "--out", &outp) ||
	    cli_opt(a, "--version", &ver_s) || cli_opt(a, "--expires-days", &days_s) ||
	    cli_positional(a, pos, 0, &npos) || in == NULL || outp == NULL || ver_s == NULL) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if (cli_parse_range("--version", ver_s, 1, INT32_MAX, &version) ||
	    (days_s && cli_parse_range("--expires-days", days_s, 1, snapshot ? 366 : 31, &days)))
		return CLI_USAGE;
	if (bw_file_read(in, 16u << 20, &data, &len, &err) != 0) {
		cli_fail(snapshot ? "snapshot" : "timestamp", &err);
		goto out;
	}
	if (snapshot) {
		if ((src = json_loadb((char *)data, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			cli_errorf("snapshot: %s: %s (line %d)", in, jerr.text, jerr.line);
			goto out;
		}
		if (patch_snapshot_make(src, (int64_t)version, (int64_t)time(NULL), (int64_t)days * 86400, &md, &err) != 0) {
			cli_fail("snapshot", &err);
			goto out;
		}
	} else if (patch_timestamp_make(data, len, (int64_t)version, (int64_t)time(NULL), (int64_t)days * 86400, &md, &err) != 0) {
		cli_fail("timestamp", &err);
		goto out;
	}
	if ((text = json_dumps(md, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL ||
	    bw_file_write_atomic(outp, text, strlen(text), 0644, &err) != 0) {
		cli_fail(snapshot ? "snapshot" : "timestamp", &err);
		goto out;
	}
	rc = CLI_OK;
out:
	free(data);
	free(text);
	json_decref(md);
	json_decref(src);
	return rc;
}

static int
patch_rotation_cmd(struct cli_args *a)
{
	char *pos[2];
	size_t npos;
	json_error_t jerr;
	json_t *o = NULL, *n = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	if (cli_positional(a, pos, 2, &npos) || npos != 2) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if ((o = json_load_file(pos[0], JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    (n = json_load_file(pos[1], JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		cli_errorf("verify-rotation: %s (line %d)", jerr.text, jerr.line);
		goto out;
	}
	if (patch_verify_root_rotation(o, n, &err) != 0) {
		cli_fail("verify-rotation", &err);
		goto out;
	}
	printf("OK: %s is a valid successor of %s (signed by both roots' thresholds)\n", pos[1], pos[0]);
	rc = CLI_OK;
out:
	json_decref(o);
	json_decref(n);
	return rc;
}

static int
patch_canonical_cmd(struct cli_args *a)
{
	char *pos[1], *out = NULL;
	size_t npos, len;
	json_error_t jerr;
	json_t *j;
	struct bw_err err = { 0 };

	if (cli_positional(a, pos, 1, &npos) || npos != 1) {
		fputs(patch_usage, stderr);
		return CLI_USAGE;
	}
	if ((j = json_load_file(pos[0], JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr)) == NULL) {
		cli_errorf("canonical: %s: %s (line %d)", pos[0], jerr.text, jerr.line);
		return CLI_FAIL;
	}
	if (patch_cjson(j, &out, &len, &err) != 0) {
		json_decref(j);
		return cli_fail("canonical", &err);
	}
	fwrite(out, 1, len, stdout);
	free(out);
	json_decref(j);
	return CLI_OK;
}

int
cmd_patch(int argc, char **argv)
{
	struct cli_args a;
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0) {
			fputs(patch_usage, stdout);
			return CLI_OK;
		}
	if (argc >= 1 && strcmp(argv[0], "keygen") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_keygen(&a);
	}
	if (argc >= 2 && strcmp(argv[0], "root") == 0 && strcmp(argv[1], "init") == 0) {
		cli_args_init(&a, argc - 2, argv + 2);
		return patch_root_init(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "sign") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_sign_cmd(&a);
	}
	if (argc >= 1 && (strcmp(argv[0], "snapshot") == 0 || strcmp(argv[0], "timestamp") == 0)) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_online_cmd(&a, argv[0][0] == 's');
	}
	if (argc >= 1 && strcmp(argv[0], "add") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_add_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "verify-rotation") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_rotation_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "canonical") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_canonical_cmd(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "keys") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return cli_patch_keys(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "status") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return cli_patch_status(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "publish") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return cli_patch_publish(&a);
	}
	if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return patch_verify_cmd(&a);
	}
	fputs(patch_usage, stderr);
	return CLI_USAGE;
}
