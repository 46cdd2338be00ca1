/* cli/cmd_note.c: `bulwark note keygen|sign|cosign|verify` (C2SP signed notes and cosignatures). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "note/note.h"

static const char note_usage[] =
    "usage: bulwark note keygen --name NAME --out SIGNER_KEY_FILE [--cosigner]\n"
    "       bulwark note sign --key SIGNER_KEY [--key ...] [FILE|-]\n"
    "       bulwark note cosign --key COSIGNER_KEY [--time SECONDS] [FILE|-]\n"
    "       bulwark note verify --vkey VERIFIER_KEY [--vkey ...] [FILE|-]\n"
    "\n"
    "keygen writes the signer key (PRIVATE+KEY+...) to a new 0600 file and prints\n"
    "the verifier key (--cosigner: a witness's key, type 0x04, for cosignature/v1).\n"
    "sign prints the signed note for the text in FILE (or stdin). cosign reads a signed\n"
    "note (a checkpoint) and prints it with a cosignature/v1 line added (c2sp.org/\n"
    "tlog-cosignature) at --time (default now).\n"
    "verify exits 0 and prints the note text when a given key signed the note;\n"
    "signatures by other keys are ignored, a failing signature by a given key\n"
    "rejects the note. Keys are given as text or as a file holding the text.\n";

#define MAX_KEYS 32

static int
note_keygen(int argc, char **argv)
{
	struct cli_args a;
	const char *name, *outpath;
	char *skey = NULL, *vkey = NULL;
	char *pos[1];
	size_t npos;
	struct bw_err err = { 0 };
	bool cosigner;
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--name", &name) || cli_opt(&a, "--out", &outpath))
		return CLI_USAGE;
	cosigner = cli_flag(&a, "--cosigner");
	if (cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (name == NULL || outpath == NULL) {
		fputs(note_usage, stderr);
		return CLI_USAGE;
	}
	if (note_key_generate_alg(name, cosigner ? NOTE_ALG_COSIGNATURE_V1 : NOTE_ALG_ED25519, &skey, &vkey, &err) != 0)
		return cli_fail("keygen", &err);
	{
		size_t kl = strlen(skey);
		char *text = bw_secure_alloc(kl + 2);
		int w = text == NULL;
		if (text != NULL) {
			memcpy(text, skey, kl);
			text[kl] = '\n';
			w = bw_file_create_secret(outpath, text, kl + 1, &err);
			bw_secure_free(text);
		}
		if (w != 0) {
			cli_errorf("keygen: cannot create %s (%s; it must not exist yet)", outpath,
				   text == NULL ? "out of secure memory" : err.msg);
			goto out;
		}
	}
	printf("%s\n", vkey);
	rc = CLI_OK;
out:
	bw_memzero(skey, strlen(skey));
	free(skey);
	free(vkey);
	return rc;
}

static int
note_sign_cmd(int argc, char **argv)
{
	struct cli_args a;
	const char *keyargs[MAX_KEYS];
	struct note_signer *signers[MAX_KEYS] = { 0 };
	char *pos[1], *out = NULL;
	size_t nkeys, npos, i, len, outlen;
	uint8_t *text = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt_all(&a, "--key", keyargs, MAX_KEYS, &nkeys) || cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	if (nkeys == 0) {
		fputs(note_usage, stderr);
		return CLI_USAGE;
	}
	for (i = 0; i < nkeys; i++)
		if (cli_load_signer(keyargs[i], &signers[i], &err) != 0) {
			rc = cli_fail(keyargs[i], &err);
			goto out;
		}
	if (cli_read_input(npos ? pos[0] : NULL, NOTE_MAX_SIZE, &text, &len, &err) != 0 ||
	    note_sign((char *)text, len, signers, nkeys, &out, &outlen, &err) != 0) {
		rc = cli_fail("sign", &err);
		goto out;
	}
	fwrite(out, 1, outlen, stdout);
	rc = CLI_OK;
out:
	for (i = 0; i < nkeys; i++)
		note_signer_free(signers[i]);
	free(text);
	free(out);
	return rc;
}

static int
note_cosign_cmd(int argc, char **argv)
{
	struct cli_args a;
	const char *keyarg = NULL, *time_s = NULL;
	struct note_signer *cosigner = NULL;
	struct note *n = NULL;
	char *pos[1], *line = NULL;
	size_t npos, len;
	uint8_t *msg = NULL;
	uint64_t t = (uint64_t)(bw_now_ms() / 1000);
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--key", &keyarg) || cli_opt(&a, "--time", &time_s) || cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	if (keyarg == NULL) {
		fputs(note_usage, stderr);
		return CLI_USAGE;
	}
	if (time_s != NULL && (bw_parse_u64(time_s, strlen(time_s), &t) != 0 || t > (uint64_t)INT64_MAX)) {
		cli_errorf("cosign: --time must be seconds since the epoch");
		return CLI_USAGE;
	}
	if (cli_load_signer(keyarg, &cosigner, &err) != 0)
		return cli_fail(keyarg, &err);
	if (cli_read_input(npos ? pos[0] : NULL, NOTE_MAX_SIZE + 1, &msg, &len, &err) != 0 ||
	    note_parse(msg, len, &n, &err) != 0 || note_cosign(n->text, n->text_len, cosigner, t, &line, &err) != 0) {
		rc = cli_fail("cosign", &err);
		goto out;
	}
	fwrite(msg, 1, len, stdout);	/* the note as given (it ends with its last signature line), then ours */
	fputs(line, stdout);
	rc = CLI_OK;
out:
	note_signer_free(cosigner);
	note_free(n);
	free(msg);
	free(line);
	return rc;
}

static int
note_verify_cmd(int argc, char **argv)
{
	struct cli_args a;
	const char *keyargs[MAX_KEYS];
	struct note_verifier *known[MAX_KEYS] = { 0 };
	struct note *n = NULL;
	char *pos[1];
	size_t nkeys, npos, i, len;
	uint8_t *msg = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt_all(&a, "--vkey", keyargs, MAX_KEYS, &nkeys) || cli_positional(&a, pos, 1, &npos))
		return CLI_USAGE;
	if (nkeys == 0) {
		fputs(note_usage, stderr);
		return CLI_USAGE;
	}
	for (i = 0; i < nkeys; i++)
		if (cli_load_verifier(keyargs[i], &known[i], &err) != 0) {
			rc = cli_fail(keyargs[i], &err);
			goto out;
		}
	if (cli_read_input(npos ? pos[0] : NULL, NOTE_MAX_SIZE + 1, &msg, &len, &err) != 0 ||
	    note_open(msg, len, known, nkeys, &n, &err) != 0) {
		rc = cli_fail("verify", &err);
		goto out;
	}
	fwrite(n->text, 1, n->text_len, stdout);
	rc = CLI_OK;
out:
	for (i = 0; i < nkeys; i++)
		note_verifier_free(known[i]);
	note_free(n);
	free(msg);
	return rc;
}

int
cmd_note(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "help") == 0) {
		fputs(note_usage, argc < 1 ? stderr : stdout);
		return argc < 1 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[0], "keygen") == 0)
		return note_keygen(argc - 1, argv + 1);
	if (strcmp(argv[0], "sign") == 0)
		return note_sign_cmd(argc - 1, argv + 1);
	if (strcmp(argv[0], "cosign") == 0)
		return note_cosign_cmd(argc - 1, argv + 1);
	if (strcmp(argv[0], "verify") == 0)
		return note_verify_cmd(argc - 1, argv + 1);
	cli_errorf("note: unknown command '%s'", argv[0]);
	fputs(note_usage, stderr);
	return CLI_USAGE;
}
