/* agent/state.c: creating the agent's state directory (config and the pinned root). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"
#include "crypto/crypto.h"
#include "note/note.h"
#include "patch/patch.h"
#include "witness/witness.h"

static bool
has_pem_certificate(const uint8_t *p, size_t n)
{
	static const char tag[] = "-----BEGIN CERTIFICATE-----";
	size_t i;

	for (i = 0; i + sizeof tag - 1 <= n; i++)
		if (memcmp(p + i, tag, sizeof tag - 1) == 0)
			return true;
	return false;
}

/* The policy file, parsed strictly; it must name the log key v. *text (caller frees) is its bytes. */
static int
policy_load(const char *path, const struct note_verifier *v, uint8_t **text, size_t *len, struct bw_err *err)
{
	struct witness_policy *p = NULL;
	const struct note_verifier *lk;
	int r;

	if ((r = bw_file_read(path, WITNESS_POLICY_TEXT_MAX, text, len, err)) != 0 ||
	    (r = witness_policy_parse((const char *)*text, *len, &p, err)) != 0) {
		bw_err_prefix(err, "witness policy %s", path);
		goto out;
	}
	if ((lk = witness_policy_log(p, v->name)) == NULL || memcmp(lk->pk, v->pk, sizeof v->pk) != 0)
		r = bw_err_set(err, BW_EINVAL, "witness policy %s: it names no log %s with the log key given", path, v->name);
out:
	witness_policy_free(p);
	if (r != 0) {
		free(*text);
		*text = NULL;
	}
	return r;
}

int
agent_init(const struct agent_init_opts *o, struct bw_err *err)
{
	char path[4096], *text = NULL;
	uint8_t *root_bytes = NULL, *policy_text = NULL;
	size_t policy_len = 0;
	size_t len;
	json_t *root = NULL, *cfg = NULL;
	json_error_t jerr;
	struct note_verifier *v = NULL;
	int r;

	if (o->state == NULL || o->server == NULL || o->host == NULL)
		return bw_err_set(err, BW_EINVAL, "state, server and host are required");
	if ((o->root_path == NULL) != (o->log_vkey == NULL))
		return bw_err_set(err, BW_EINVAL, "give both the root metadata and the log key (for patches), or neither");
	if (strncmp(o->server, "https://", 8) != 0 || (o->report_server && strncmp(o->report_server, "https://", 8) != 0))
		return bw_err_set(err, BW_EINVAL, "server URLs must start with https://");
	if (!bw_simple_name_valid(o->host, 64) || (o->group != NULL && !bw_simple_name_valid(o->group, 64)))
		return bw_err_set(err, BW_EINVAL, "host and group must be simple names");
	if (o->log_vkey != NULL && (r = note_verifier_parse(o->log_vkey, strlen(o->log_vkey), &v, err)) != 0)
		return bw_err_prefix(err, "log key"), r;
	if ((o->witness_policy != NULL || o->witness_fail_open) && v == NULL)
		return bw_err_set(err, BW_EINVAL, "a witness policy goes with --root and --log-key (patches)");
	if (o->witness_fail_open && o->witness_policy == NULL) {
		note_verifier_free(v);
		return bw_err_set(err, BW_EINVAL, "witness fail-open goes with a witness policy");
	}
	if (o->witness_policy != NULL && (r = policy_load(o->witness_policy, v, &policy_text, &policy_len, err)) != 0) {
		note_verifier_free(v);
		return r;
	}
	note_verifier_free(v);
	snprintf(path, sizeof path, "%s/config.json", o->state);
	if (access(path, F_OK) == 0) {
		r = bw_err_set(err, BW_EEXIST, "%s already holds an agent", o->state);
		goto out;
	}
	if (o->root_path == NULL)
		goto no_patches;
	if ((r = bw_file_read(o->root_path, (size_t)1 << 20, &root_bytes, &len, err)) != 0)
		goto out;
	if ((root = json_loadb((char *)root_bytes, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		r = bw_err_set(err, BW_EINVAL, "%s: %s", o->root_path, jerr.text);
		goto out;
	}
	if (!json_is_string(json_object_get(json_object_get(root, "signed"), "_type")) ||
	    strcmp(json_string_value(json_object_get(json_object_get(root, "signed"), "_type")), "root") != 0) {
		r = bw_err_set(err, BW_EINVAL, "%s is not root metadata", o->root_path);
		goto out;
	}
	if ((r = patch_verify_role(root, json_object_get(root, "signed"), "root", NULL, err)) != 0) {
		bw_err_prefix(err, "%s", o->root_path);
		goto out;
	}
no_patches:
	cfg = json_pack("{s:s, s:s, s:s}", "server", o->server, "report_server",
			o->report_server ? o->report_server : o->server, "host", o->host);
	if (o->log_vkey)
		json_object_set_new(cfg, "log_vkey", json_string(o->log_vkey));
	if (o->group)
		json_object_set_new(cfg, "group", json_string(o->group));
	if (o->install)
		json_object_set_new(cfg, "install", json_string(o->install));
	if (o->install_dir)
		json_object_set_new(cfg, "install_dir", json_string(o->install_dir));
	if (o->witness_fail_open)
		json_object_set_new(cfg, "witness_fail_open", json_true());
	if ((r = bw_mkdir_p(o->state, 0700, err)) != 0)
		goto out;
	if (o->cacert) {
		/* Pinned: a copy in the state directory, so a later change of the file given here changes nothing. */
		uint8_t *pem = NULL;
		size_t plen = 0;
		char *abs;
		if ((r = bw_file_read(o->cacert, (size_t)1 << 20, &pem, &plen, err)) != 0)
			goto out;
		if (!has_pem_certificate(pem, plen)) {
			free(pem);
			r = bw_err_set(err, BW_EINVAL, "%s: not a PEM certificate", o->cacert);
			goto out;
		}
		snprintf(path, sizeof path, "%s/server-ca.pem", o->state);
		r = bw_file_write_atomic(path, pem, plen, 0600, err);
		free(pem);
		if (r != 0)
			goto out;
		if ((abs = realpath(path, NULL)) == NULL) {
			r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		json_object_set_new(cfg, "cacert", json_string(abs));
		free(abs);
	}
	snprintf(path, sizeof path, "%s/root.json", o->state);
	if (root_bytes != NULL && (r = bw_file_write_atomic(path, root_bytes, len, 0600, err)) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/%s", o->state, AGENT_WITNESS_POLICY);
	if (policy_text != NULL && (r = bw_file_write_atomic(path, policy_text, policy_len, 0600, err)) != 0)
		goto out;
	snprintf(path, sizeof path, "%s/config.json", o->state);
	if ((text = json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	r = bw_file_write_atomic(path, text, strlen(text), 0600, err);
out:
	free(root_bytes);
	free(policy_text);
	free(text);
	json_decref(root);
	json_decref(cfg);
	return r;
}

int
agent_enrol(const char *state, const char *code, struct bw_err *err)
{
	char path[4096];
	uint8_t *cfg_bytes = NULL;
	size_t len;
	json_t *cfg = NULL, *body = NULL, *reply = NULL;
	struct bw_buf out = { 0 };
	struct agent_http h = { 0 };
	const char *host, *cred, *got;
	json_error_t jerr;
	long status = 0;
	int r;

	if (strlen(code) > 128)
		return bw_err_set(err, BW_EINVAL, "that is not an enrolment code");
	snprintf(path, sizeof path, "%s/config.json", state);
	if ((r = bw_file_read(path, (size_t)1 << 20, &cfg_bytes, &len, err)) != 0)
		return bw_err_prefix(err, "%s holds no agent (run 'bulwark agent init')", state);
	if ((cfg = json_loadb((char *)cfg_bytes, len, 0, &jerr)) == NULL) {
		r = bw_err_set(err, BW_ECORRUPT, "%s: %s", path, jerr.text);
		goto out;
	}
	h.base = json_string_value(json_object_get(cfg, "report_server"));
	h.cacert = json_string_value(json_object_get(cfg, "cacert"));
	host = json_string_value(json_object_get(cfg, "host"));
	if (h.base == NULL || host == NULL) {
		r = bw_err_set(err, BW_ECORRUPT, "%s lacks report_server or host", path);
		goto out;
	}
	body = json_pack("{s:s}", "code", code);
	if ((r = agent_http_post_json(&h, "/api/v1/hosts/enrol", body, &status, &out, err)) != 0)
		goto out;
	reply = json_loadb((const char *)out.data, out.len, 0, &jerr);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(reply, "error"));
		r = bw_err_set(err, status == 403 ? BW_EDENIED : BW_EIO, "the server refused the code (HTTP %ld: %.200s)",
			       status, msg ? msg : "no reason given");
		goto out;
	}
	got = json_string_value(json_object_get(reply, "host"));
	cred = json_string_value(json_object_get(reply, "credential"));
	if (got == NULL || cred == NULL || strncmp(cred, "bwh_", 4) != 0 || strlen(cred) > 100) {
		r = bw_err_set(err, BW_EIO, "the server's answer holds no host credential");
		goto out;
	}
	if (strcmp(got, host) != 0) {
		/* The code is used up now; say so, so the admin issues a new one for the right host. */
		r = bw_err_set(err, BW_EINVAL, "that code was for host '%.64s', this agent is host '%.64s' (the code is "
			       "used up: have a new one issued for '%.64s')", got, host, host);
		goto out;
	}
	snprintf(path, sizeof path, "%s/credential", state);
	r = bw_file_write_atomic(path, cred, strlen(cred), 0600, err);
out:
	if (out.data != NULL)
		bw_memzero(out.data, out.len);
	bw_buf_free(&out);
	json_decref(reply);	/* the credential's copy inside it is freed with it */
	json_decref(body);
	json_decref(cfg);
	free(cfg_bytes);
	return r;
}

void
agent_identity_clear(struct agent_identity *id)
{
	json_decref(id->cfg);
	bw_secure_free(id->token);	/* wiped */
	memset(id, 0, sizeof *id);
}

int
agent_identity_load(const char *state, struct agent_identity *id, struct bw_err *err)
{
	char path[4096];
	json_error_t jerr;
	int r;

	memset(id, 0, sizeof *id);
	if ((size_t)snprintf(path, sizeof path, "%s/config.json", state) >= sizeof path)
		return bw_err_set(err, BW_ERANGE, "state path too long");
	if (access(path, F_OK) != 0)
		return bw_err_set(err, BW_ENOTFOUND, "%s holds no agent (run 'bulwark agent init')", state);
	if ((id->cfg = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return bw_err_set(err, BW_ECORRUPT, "%s: %s", path, jerr.text);
	id->http.base = json_string_value(json_object_get(id->cfg, "report_server"));
	id->http.cacert = json_string_value(json_object_get(id->cfg, "cacert"));
	id->host = json_string_value(json_object_get(id->cfg, "host"));
	if (id->http.base == NULL || id->host == NULL) {
		agent_identity_clear(id);
		return bw_err_set(err, BW_ECORRUPT, "%s lacks report_server or host", path);
	}
	/* The host's credential (agent enrol): the server accepts what it sends for this host only. */
	snprintf(path, sizeof path, "%s/credential", state);
	if (access(path, F_OK) == 0) {
		uint8_t *t = NULL;
		size_t n;
		if ((r = bw_file_read_secret(path, 4096, &t, &n, err)) != 0) {
			agent_identity_clear(id);
			return bw_err_prefix(err, "host credential"), r;
		}
		while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
			t[--n] = '\0';
		id->token = (char *)t;
		id->http.token = id->token;
	}
	return 0;
}
