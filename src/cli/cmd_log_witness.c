/*
 * cli/cmd_log_witness.c: `bulwark log witness`: the log side of c2sp.org/
 * tlog-witness for a log directory. Each witness of a policy that has a URL
 * gets the checkpoint with a consistency proof from the size it last
 * cosigned (asked as "old 0" first; its 409 tells the size), and the
 * cosignatures that verify with its key are printed after the checkpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "tlog/tlog.h"
#include "witness/witness.h"

#define REPLY_MAX 65536

struct reply {
	char buf[REPLY_MAX];
	size_t len;
	bool over;
};

static size_t
collect(char *p, size_t sz, size_t n, void *ctx)
{
	struct reply *r = ctx;
	size_t k = sz * n;

	if (r->len + k >= sizeof r->buf) {
		r->over = true;
		return 0;
	}
	memcpy(r->buf + r->len, p, k);
	r->len += k;
	r->buf[r->len] = '\0';
	return k;
}

/* POSTs body to URL/add-checkpoint; *status the HTTP status (0: no answer, why in err). */
static int
post(const char *url, const char *cacert, const char *body, size_t len, long *status, struct reply *rep,
     struct bw_err *err)
{
	char full[2100], errbuf[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode rc;

	*status = 0;
	rep->len = 0;
	rep->buf[0] = '\0';
	if (strncmp(url, "https://", 8) != 0 || (size_t)snprintf(full, sizeof full, "%s/add-checkpoint", url) >= sizeof full)
		return bw_err_set(err, BW_EINVAL, "witness URL must be https:// and shorter than 2000 bytes");
	if ((c = curl_easy_init()) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, rep);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	if ((rc = curl_easy_perform(c)) != CURLE_OK)
		bw_err_set(err, BW_EIO, "%s", rep->over ? "answer too long" : errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	return *status != 0 ? 0 : BW_EIO;
}

int
cli_log_witness(int argc, char **argv)
{
	struct cli_args a;
	const char *dir = NULL, *policy_path = NULL, *cacert = NULL;
	char *pos[1], why[300] = "";
	size_t npos, len = 0, plen = 0, i;
	uint8_t *note = NULL, *ptext = NULL;
	struct tlog_checkpoint cp = { 0 };
	struct tlog_tiles *t = NULL;
	struct witness_policy *policy = NULL;
	struct bw_sha256 *h = NULL;
	struct bw_buf body = { 0 }, cosigs = { 0 }, full = { 0 };
	struct reply *rep = NULL;
	struct note *n = NULL;
	struct bw_err err = { 0 };
	int rc = CLI_FAIL;

	cli_args_init(&a, argc, argv);
	if (cli_opt(&a, "--dir", &dir) || cli_opt(&a, "--policy", &policy_path) || cli_opt(&a, "--cacert", &cacert) ||
	    cli_positional(&a, pos, 0, &npos))
		return CLI_USAGE;
	if (dir == NULL || policy_path == NULL) {
		cli_errorf("log witness needs --dir and --policy");
		return CLI_USAGE;
	}
	if (cli_read_input(policy_path, WITNESS_POLICY_TEXT_MAX, &ptext, &plen, &err) != 0 ||
	    witness_policy_parse((const char *)ptext, plen, &policy, &err) != 0) {
		cli_fail("--policy", &err);
		goto out;
	}
	if (cli_log_checkpoint(dir, &note, &len, &cp, &err) != 0 || tlog_tiles_open(dir, &t, &err) != 0 ||
	    bw_sha256_new(&h, &err) != 0 || (rep = malloc(sizeof *rep)) == NULL) {
		cli_fail("witness", err.msg[0] ? &err : &(struct bw_err){ BW_ENOMEM, "out of memory" });
		goto out;
	}
	for (i = 0; i < witness_policy_witnesses(policy); i++) {
		const char *name, *url;
		const struct note_verifier *key;
		long status = 0;
		uint64_t old = 0;
		int round;
		witness_policy_witness(policy, i, &name, &key, &url);
		if (url == NULL) {
			fprintf(stderr, "%s: no URL in the policy, not asked\n", name);
			continue;
		}
		/* first "old 0"; a 409 names the size it cosigned, then once more from there */
		for (round = 0; round < 2; round++) {
			struct witness_answer ans;
			bw_err_clear(&err);
			if (witness_submission_format(h, t, old, cp.size, note, len, &body, &err) != 0 ||
			    post(url, cacert, (const char *)body.data, body.len, &status, rep, &err) != 0) {
				fprintf(stderr, "%s: %s\n", name, err.msg);
				break;
			}
			witness_answer_read(status, rep->buf, rep->len, note, len, cp.size, key, &ans, &cosigs);
			if (ans.kind == WITNESS_STALE && round == 0) {
				old = ans.size;
				continue;
			}
			fprintf(stderr, "%s: %s\n", name, ans.kind == WITNESS_COSIGNED ? "cosigned" : ans.why);
			break;
		}
	}
	if (bw_buf_append(&full, note, len) != 0 || (cosigs.len > 0 && bw_buf_append(&full, cosigs.data, cosigs.len) != 0) ||
	    note_parse(full.data, full.len, &n, &err) != 0) {
		cli_fail("witness", &err);
		goto out;
	}
	fwrite(full.data, 1, full.len, stdout);
	if (witness_policy_check_quorum(policy, n, cp.origin, why, sizeof why) == 0) {	/* the log's own, verified */
		fprintf(stderr, "witness: %s\n", why);
		if (tlog_cosigned_save(dir, full.data, full.len, &err) != 0)
			cli_fail("witness", &err);
		else
			rc = CLI_OK;
	} else {
		cli_errorf("witness: %s", why);
	}
out:
	note_free(n);
	free(rep);
	free(note);
	free(ptext);
	bw_buf_free(&body);
	bw_buf_free(&cosigs);
	bw_buf_free(&full);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
	witness_policy_free(policy);
	return rc;
}
