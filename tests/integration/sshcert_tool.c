/*
 * Test driver for the access module's OpenSSH code (certificates and KRLs),
 * so that the real ssh-keygen and sshd can check what it produces.
 *
 *   sshcert_tool ca CAFILE                 new CA (seed in CAFILE), prints its public key line
 *   sshcert_tool sign CAFILE PUBFILE SERIAL KEYID PRINCIPALS AFTER BEFORE [opts]
 *        opts: source=ADDRS force=CMD pty agent port x11 userrc
 *   sshcert_tool krl CAFILE VERSION [SERIAL...]   binary KRL on stdout
 *   sshcert_tool check PUBFILE             parses a public key, prints type, bits, fingerprint
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/access.h"

static int
load_ca(const char *path, struct bw_ed25519 *ca)
{
	uint8_t *hex = NULL, seed[32];
	size_t len;
	struct bw_err err = { 0 };

	if (bw_file_read(path, 1024, &hex, &len, &err) != 0 || len < 64 || bw_hex_decode((char *)hex, 64, seed, 32) != 0 ||
	    bw_ed25519_from_seed(ca, seed, &err) != 0) {
		fprintf(stderr, "sshcert_tool: bad CA file %s %s\n", path, err.msg);
		free(hex);
		return -1;
	}
	free(hex);
	return 0;
}

int
main(int argc, char **argv)
{
	struct bw_ed25519 ca = { 0 };
	struct bw_err err = { 0 };
	char *out = NULL;

	if (argc < 3 || bw_crypto_init(NULL) != 0)
		return 2;
	if (strcmp(argv[1], "ca") == 0) {
		uint8_t seed[32];
		char hex[65];
		FILE *f;
		if (bw_ed25519_generate(&ca, &err) != 0)
			return 1;
		bw_ed25519_seed(&ca, seed);
		bw_hex_encode(hex, seed, 32);
		if ((f = fopen(argv[2], "w")) == NULL)
			return 1;
		fprintf(f, "%s\n", hex);
		fclose(f);
		if (ssh_ca_pubkey_line(&ca, "bulwark-test-ca", &out, &err) != 0)
			return 1;
		printf("%s\n", out);
	} else if (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "sign") == 0) {
		uint8_t *line = NULL;
		size_t len;
		struct ssh_pubkey key;
		const char *pubfile = strcmp(argv[1], "check") == 0 ? argv[2] : argv[3];
		if (bw_file_read(pubfile, SSH_KEY_LINE_MAX, &line, &len, &err) != 0 ||
		    ssh_pubkey_parse((char *)line, len, &key, &err) != 0) {
			fprintf(stderr, "sshcert_tool: %s\n", err.msg);
			free(line);
			return 1;
		}
		free(line);
		if (argv[1][0] == 'c') {
			printf("%s %u %s\n", key.type_name, key.bits, key.fingerprint);
		} else {
			struct ssh_cert_req q = { 0 };
			const char *principals[SSH_MAX_PRINCIPALS];
			char *plist;
			int i;
			if (argc < 9 || load_ca(argv[2], &ca) != 0)
				return 2;
			q.key = &key;
			q.serial = strtoull(argv[4], NULL, 10);
			q.key_id = argv[5];
			plist = argv[6];
			for (char *tok = strtok(plist, ","); tok && q.nprincipals < SSH_MAX_PRINCIPALS; tok = strtok(NULL, ","))
				principals[q.nprincipals++] = tok;
			q.principals = principals;
			q.valid_after = strtoull(argv[7], NULL, 10);
			q.valid_before = strtoull(argv[8], NULL, 10);
			for (i = 9; i < argc; i++) {
				if (strncmp(argv[i], "source=", 7) == 0)
					q.source_address = argv[i] + 7;
				else if (strncmp(argv[i], "force=", 6) == 0)
					q.force_command = argv[i] + 6;
				else if (strcmp(argv[i], "pty") == 0)
					q.permit_pty = true;
				else if (strcmp(argv[i], "agent") == 0)
					q.permit_agent = true;
				else if (strcmp(argv[i], "port") == 0)
					q.permit_port = true;
				else if (strcmp(argv[i], "x11") == 0)
					q.permit_x11 = true;
				else if (strcmp(argv[i], "userrc") == 0)
					q.permit_user_rc = true;
			}
			if (ssh_cert_sign(&ca, &q, NULL, &out, &err) != 0) {
				fprintf(stderr, "sshcert_tool: %s\n", err.msg);
				ssh_pubkey_clear(&key);
				return 1;
			}
			fputs(out, stdout);
		}
		ssh_pubkey_clear(&key);
	} else if (strcmp(argv[1], "krl") == 0) {
		uint64_t serials[256];
		size_t n = 0, len;
		uint8_t *krl;
		int i;
		if (argc < 4 || load_ca(argv[2], &ca) != 0)
			return 2;
		for (i = 4; i < argc && n < 256; i++)
			serials[n++] = strtoull(argv[i], NULL, 10);
		if (ssh_krl_build((const struct bw_ed25519 *const[]){ &ca }, 1, serials, n, strtoull(argv[3], NULL, 10), (uint64_t)time(NULL), &krl, &len, &err) != 0)
			return 1;
		fwrite(krl, 1, len, stdout);
		free(krl);
	} else {
		return 2;
	}
	free(out);
	bw_ed25519_free(&ca);
	return 0;
}
