/* cli/cmd_backup.c: bulwark backup (and backup keygen) and bulwark restore (docs/OPERATIONS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup/backup.h"
#include "cli.h"
#include "crypto/crypto.h"

static const char backup_usage[] =
    "usage: bulwark backup --data DIR --out FILE [--to PUBLIC_KEY] [--include-kek]\n"
    "       bulwark backup keygen --out SECRET_KEY_FILE\n"
    "\n"
    "Copies the data directory DIR, while its server runs, into one encrypted file FILE\n"
    "(which must not exist): the databases (SQLite's online backup, each one consistent\n"
    "state), the audit and host-event logs as of a checkpoint with every entry acknowledged\n"
    "past it, the sealed keys, TLS material, samples and patch repository, and a manifest\n"
    "of every file's SHA-256 and each log's checkpoint.\n"
    "\n"
    "The file is encrypted to a passphrase (BULWARK_BACKUP_PASSPHRASE, or asked twice on\n"
    "the terminal; at least 12 characters; Argon2id) or, with --to, to a recipient's public\n"
    "key (the line 'bulwark-backup-key ...' that backup keygen prints, or a file holding it),\n"
    "so a machine that makes backups cannot read them.\n"
    "\n"
    "The key-encryption key (DIR/kek) is left out: keep it apart from the backups (restore\n"
    "--kek puts it back). --include-kek puts it in (with a warning): then the backup's\n"
    "passphrase or secret key opens every sealed key.\n"
    "\n"
    "backup keygen writes a new recipient secret key to SECRET_KEY_FILE (0600; keep it\n"
    "offline) and prints its public key.\n";

static const char restore_usage[] =
    "usage: bulwark restore --in FILE --data DIR [--key SECRET_KEY_FILE] [--kek KEK_FILE]\n"
    "\n"
    "Restores a backup into DIR, which must not exist or be empty. Every chunk is\n"
    "decrypted and authenticated (an edited, cut or reordered file is refused), every file is\n"
    "checked against the manifest (none missing or extra, sizes and SHA-256), each log is\n"
    "audited against the checkpoint the manifest names (signature, every tile and entry,\n"
    "the acknowledged entries past it all there), and with a key-encryption key at hand\n"
    "(in the backup, --kek, or a passphrase data directory's BULWARK_PASSPHRASE) the sealed\n"
    "keys are opened. Only then does DIR appear; on any failure nothing is left behind.\n"
    "\n"
    "A backup to a passphrase reads it from BULWARK_BACKUP_PASSPHRASE or the terminal; one\n"
    "to a recipient key needs --key. The server started on DIR integrates the acknowledged\n"
    "entries into its log.\n";

/* The recipient's public key: the text itself or a file holding it. */
static int
public_key_arg(const char *arg, uint8_t pk[BACKUP_KEY_SIZE])
{
	struct bw_err err = { 0 };
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	if (strncmp(arg, BACKUP_PUBLIC_PREFIX, strlen(BACKUP_PUBLIC_PREFIX)) == 0)
		r = backup_public_key_parse(arg, strlen(arg), pk, &err);
	else if ((r = bw_file_read(arg, 4096, &text, &len, &err)) == 0)
		r = backup_public_key_parse((char *)text, len, pk, &err);
	free(text);
	return r == 0 ? 0 : cli_fail("backup --to", &err);
}

static int
backup_keygen_cmd(struct cli_args *a)
{
	struct bw_err err = { 0 };
	const char *out = NULL;
	uint8_t pk[BACKUP_KEY_SIZE], *sk = NULL;
	char b64[64], line[128];
	char *pos[1];
	size_t npos;
	int r;

	if (cli_opt(a, "--out", &out) || cli_positional(a, pos, 0, &npos) || out == NULL) {
		fputs(backup_usage, stderr);
		return CLI_USAGE;
	}
	if (backup_keygen(pk, &sk, &err) != 0)
		return cli_fail("backup keygen", &err);
	bw_base64_encode(b64, sk, BACKUP_KEY_SIZE);
	snprintf(line, sizeof line, BACKUP_SECRET_PREFIX "%s\n", b64);
	bw_secure_free(sk);
	r = bw_file_create_secret(out, line, strlen(line), &err);
	bw_memzero(b64, sizeof b64);
	bw_memzero(line, sizeof line);
	if (r != 0)
		return cli_fail("backup keygen", &err);
	bw_base64_encode(b64, pk, sizeof pk);
	printf(BACKUP_PUBLIC_PREFIX "%s\n", b64);
	fprintf(stderr, "secret key written to %s: keep it offline; 'bulwark restore --key %s' needs it\n", out, out);
	return CLI_OK;
}

static void
print_logs(const struct backup_log_info *logs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("  %-8s checkpoint of %llu entries, %llu acknowledged past it\n", logs[i].dir,
		       (unsigned long long)logs[i].size, (unsigned long long)logs[i].acknowledged);
}

int
cmd_backup(int argc, char **argv)
{
	struct cli_args a;
	struct backup_opts o = { 0 };
	struct backup_result res;
	struct bw_err err = { 0 };
	const char *to = NULL;
	char pass[1024], *pos[1];
	size_t npos;
	int r;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		fputs(backup_usage, stdout);
		return CLI_OK;
	}
	if (argc >= 1 && strcmp(argv[0], "keygen") == 0) {
		cli_args_init(&a, argc - 1, argv + 1);
		return backup_keygen_cmd(&a);
	}
	o.include_kek = cli_flag(&a, "--include-kek");
	if (cli_opt(&a, "--data", &o.data) || cli_opt(&a, "--out", &o.out) || cli_opt(&a, "--to", &to) ||
	    cli_positional(&a, pos, 0, &npos) || o.data == NULL || o.out == NULL) {
		fputs(backup_usage, stderr);
		return CLI_USAGE;
	}
	if (to != NULL) {
		if (public_key_arg(to, o.key.public_key) != 0)
			return CLI_FAIL;
		o.key.has_public = true;
	} else {
		if (cli_secret("BULWARK_BACKUP_PASSPHRASE", "backup passphrase: ", true, pass, sizeof pass) != 0) {
			cli_errorf("backup: a passphrase is needed (BULWARK_BACKUP_PASSPHRASE or a terminal), or --to");
			return CLI_FAIL;
		}
		o.key.passphrase = pass;
	}
	r = backup_create(&o, &res, &err);
	bw_memzero(pass, sizeof pass);
	if (r != 0)
		return cli_fail("backup", &err);
	printf("backup written to %s (%llu bytes): %llu files, %llu bytes before compression\n", o.out,
	       (unsigned long long)res.out_bytes, (unsigned long long)res.files, (unsigned long long)res.bytes);
	print_logs(res.logs, res.nlogs);
	if (res.kek_included)
		fprintf(stderr, "warning: the backup holds the key-encryption key: whoever has it and its %s can open "
			"every sealed key\n", to != NULL ? "secret key" : "passphrase");
	else
		printf("the key-encryption key is not in it: keep %s/kek (or the data directory's passphrase) apart "
		       "from the backups; restore needs it\n", o.data);
	return CLI_OK;
}

int
cmd_restore(int argc, char **argv)
{
	struct cli_args a;
	struct restore_opts o = { 0 };
	struct restore_result res;
	struct bw_err err = { 0 };
	const char *keyfile = NULL, *ipass = getenv("BULWARK_PASSPHRASE");
	uint8_t *sk = NULL;
	char pass[1024], *pos[1];
	size_t npos;
	int r;

	cli_args_init(&a, argc, argv);
	if (cli_flag(&a, "--help")) {
		fputs(restore_usage, stdout);
		return CLI_OK;
	}
	if (cli_opt(&a, "--in", &o.in) || cli_opt(&a, "--data", &o.data) || cli_opt(&a, "--key", &keyfile) ||
	    cli_opt(&a, "--kek", &o.kek) || cli_positional(&a, pos, 0, &npos) || o.in == NULL || o.data == NULL) {
		fputs(restore_usage, stderr);
		return CLI_USAGE;
	}
	pass[0] = '\0';
	if (keyfile != NULL) {
		if (backup_secret_key_read(keyfile, &sk, &err) != 0)
			return cli_fail("restore --key", &err);
		o.key.secret_key = sk;
	} else {
		if (cli_secret("BULWARK_BACKUP_PASSPHRASE", "backup passphrase: ", false, pass, sizeof pass) != 0) {
			cli_errorf("restore: the backup's passphrase is needed (BULWARK_BACKUP_PASSPHRASE or a terminal), "
				   "or --key");
			return CLI_FAIL;
		}
		o.key.passphrase = pass;
	}
	o.instance_passphrase = ipass;
	r = backup_restore(&o, &res, &err);
	bw_memzero(pass, sizeof pass);
	if (sk != NULL)
		bw_secure_free(sk);
	if (r != 0)
		return cli_fail("restore", &err);
	printf("restored into %s: %llu files, %llu bytes; every file matches the manifest\n", o.data,
	       (unsigned long long)res.files, (unsigned long long)res.bytes);
	print_logs(res.logs, res.nlogs);
	printf("logs audited against the manifest's checkpoints: ok\n");
	if (res.keys_checked)
		printf("sealed keys: open with the key-encryption key\n");
	else
		printf("sealed keys: not checked (no key-encryption key here: put it at %s/kek, or give --kek, before "
		       "starting the server)\n", o.data);
	return CLI_OK;
}
