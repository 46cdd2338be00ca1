/*
 * ops/access.c: remote-maintenance operations: hosts, requests, four-eyes
 * reviews with certificate issuance, revocation, certificate download, the
 * permission review, the KRL, and the expiry sweep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "ops_internal.h"

int
ops_host_add(struct ops_ctx *x, const struct ops_host_add *q, int64_t *id, struct auth_code *code, struct bw_err *err)
{
	struct bw_buf csv = { 0 };
	struct event ev;
	size_t i;
	int r;

	r = ops_begin_tx(x, OP_HOST_ADD, &ev, err);
	ev_target(&ev, "host:%.64s", q->name);
	if (r == 0 && (!access_name_valid(q->name) || !access_name_valid(q->group)))
		r = bw_err_set(err, BW_EINVAL, "host and group names: 1..64 of a-z 0-9 . _ -");
	if (r == 0 && (strlen(q->address) == 0 || strlen(q->address) > 255 || strpbrk(q->address, " \t\r\n,") != NULL))
		r = bw_err_set(err, BW_EINVAL, "address must be a host name or IP address");
	if (r == 0 && q->naccounts == 0)
		r = bw_err_set(err, BW_EINVAL, "accounts: at least one account");
	for (i = 0; r == 0 && i < q->naccounts; i++) {
		if (!access_name_valid(q->accounts[i]))
			r = bw_err_set(err, BW_EINVAL, "accounts[%zu]: invalid account name", i);
		else if ((i && bw_buf_append_byte(&csv, ',')) || bw_buf_append_str(&csv, q->accounts[i]))
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	memset(code, 0, sizeof *code);
	if (r == 0 &&
	    (r = db_host_insert(x->in->db, q->name, q->address, q->group, (const char *)csv.data, ops_now(), id, err)) == 0 &&
	    (r = auth_enrol_issue(&x->in->auth, DB_ENROL_HOST, *id, x->caller->name, ops_now(), AUTH_ENROL_HOURS_DEFAULT,
				  code, err)) == 0)
		ev_int(&ev, EVF_CODE_EXPIRES, code->expires_at);
	bw_buf_free(&csv);
	if ((r = ops_finish(x, OP_HOST_ADD, &ev, r, err)) != 0)
		bw_memzero(code, sizeof *code);
	return r;
}

/* Keeps in hs only the hosts that one of the caller's own requests names. */
/* The CAs hosts trust now (caller holds the CA lock): the one that signs, and during a rotation the other. */
static size_t
published_cas(const struct instance *in, const struct bw_ed25519 *cas[2])
{
	cas[0] = &in->ssh_ca;
	cas[1] = &in->ssh_ca_other;
	return in->ca_rot.phase == INSTANCE_CA_SETTLED ? 1 : 2;
}

static int
hosts_of_own_requests(struct ops_ctx *x, struct db_host *hs, size_t *n, struct bw_err *err)
{
	struct db_access *as = NULL;
	size_t na = 0, i, j, kept = 0;
	int r;

	if ((r = db_access_list(x->in->db, x->caller->user_id, 100000, &as, &na, err)) != 0)
		return r;
	for (i = 0; i < *n; i++) {
		bool named = false;
		for (j = 0; j < na && !named; j++)
			named = bw_list_contains(as[j].hosts, hs[i].name);
		if (named) {
			struct db_host keep = hs[i];
			hs[i] = hs[kept];
			hs[kept++] = keep;
		}
	}
	for (i = kept; i < *n; i++)
		db_host_clear(&hs[i]);
	*n = kept;
	db_access_free(as, na);
	return 0;
}

bool
ops_sees_all_hosts(const struct ops_caller *c)
{
	return (c->roles & (ROLE_ADMIN | ROLE_OPERATOR | ROLE_APPROVER | ROLE_AUDITOR)) != 0;
}

int
ops_host_list(struct ops_ctx *x, struct db_host **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_HOST_LIST, &ev, err);
	ev_target(&ev, "host:*");
	if (r == 0)
		r = db_host_list(x->in->db, NULL, out, n, err);
	/* The object rule: vendors (and staff) see only the hosts their own requests name. */
	if (r == 0 && !ops_sees_all_hosts(x->caller) && (r = hosts_of_own_requests(x, *out, n, err)) != 0) {
		db_hosts_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	if (r == 0) {
		size_t i;
		for (i = 0; !ops_sees_all_hosts(x->caller) && i < *n; i++)
			(*out)[i].agent_enrolled_at = (*out)[i].agent_last_seen = 0;	/* agents: admins' business */
		ev_clear(&ev);	/* a permitted read: not audited */
		return 0;
	}
	return ops_finish(x, OP_HOST_LIST, &ev, r, err);
}

int
ops_host_sshd_config(struct ops_ctx *x, const char *name, const char *server_url, char **text, struct bw_err *err)
{
	struct db_host h = { 0 };
	struct event ev;
	int r;

	*text = NULL;
	r = ops_begin(x, OP_HOST_SSHD_CONFIG, &ev, err);
	ev_target(&ev, "host:%.64s", name);
	if (r == 0 && (!access_name_valid(name) || db_host_by_name(x->in->db, name, &h, err) != 0))
		r = bw_err_set(err, BW_ENOTFOUND, "unknown host");
	if (r == 0)
		r = access_sshd_config(&h, server_url, text, err);
	db_host_clear(&h);
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_HOST_SSHD_CONFIG, &ev, r, err);
}

int
ops_access_request(struct ops_ctx *x, const struct access_new *q, int64_t *id, struct bw_err *err)
{
	struct access_new mine = *q;
	struct db_access a = { 0 };
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ACCESS_REQUEST, &ev, err);
	ev_str(&ev, EVF_REASON, q->reason);
	ev_json(&ev, EVF_WINDOW, json_pack("[I, I]", (json_int_t)q->valid_after, (json_int_t)q->valid_before));
	mine.requester_id = x->caller->user_id;	/* a request is always the caller's own */
	if (r == 0)
		r = access_request_create(x->in->db, &mine, x->env->max_window, ops_now(), id, err);
	if (r == 0) {
		ev_target(&ev, "access:%lld", (long long)*id);
		if ((r = db_access_get(x->in->db, *id, &a, err)) == 0) {
			ev_list_csv(&ev, EVF_PRINCIPALS, a.principals);
			ev_str(&ev, EVF_KEY_FINGERPRINT, a.key_fp);
		}
		db_access_clear(&a);
	}
	return ops_finish(x, OP_ACCESS_REQUEST, &ev, r, err);
}

bool
ops_access_visible(const struct ops_caller *c, const struct db_access *a)
{
	return a->requester_id == c->user_id || ops_sees_all_access(c);
}

int
ops_access_list(struct ops_ctx *x, size_t limit, struct db_access **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_ACCESS_LIST, &ev, err);
	ev_target(&ev, "access:*");
	if (r == 0) {
		ops_access_expire(x);
		/* The object rule: reviewers see every request, others their own. */
		r = db_access_list(x->in->db, ops_sees_all_access(x->caller) ? 0 : x->caller->user_id, limit, out, n, err);
	}
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_ACCESS_LIST, &ev, r, err);
}

/* Loads request id for the caller; others' requests are "not found" unless the caller reviews. */
static int
load_visible(struct ops_ctx *x, int64_t id, struct db_access *a, struct bw_err *err)
{
	if (db_access_get(x->in->db, id, a, err) != 0 || !ops_access_visible(x->caller, a)) {
		db_access_clear(a);
		return bw_err_set(err, BW_ENOTFOUND, "no such access request");
	}
	return 0;
}

int
ops_access_get(struct ops_ctx *x, int64_t id, struct db_access *a, struct bw_err *err)
{
	struct event ev;
	int r;

	memset(a, 0, sizeof *a);
	r = ops_begin(x, OP_ACCESS_GET, &ev, err);
	ev_target(&ev, "access:%lld", (long long)id);
	if (r == 0) {
		ops_access_expire(x);
		r = load_visible(x, id, a, err);
	}
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_ACCESS_GET, &ev, r, err);
}

int
ops_access_review(struct ops_ctx *x, int64_t id, bool approve, const char *reason, struct db_access *a,
		  struct bw_err *err)
{
	enum op_id op = approve ? OP_ACCESS_APPROVE : OP_ACCESS_DENY;
	struct db_access cur = { 0 };
	struct event ev;
	bool issued = false;
	int r;

	memset(a, 0, sizeof *a);
	r = ops_begin_tx(x, op, &ev, err);
	ev_target(&ev, "access:%lld", (long long)id);
	if (reason != NULL)
		ev_str(&ev, EVF_REASON, reason);
	if (r == 0 && db_access_get(x->in->db, id, &cur, err) != 0)
		r = bw_err_set(err, BW_ENOTFOUND, "no such access request");
	/* Four eyes, beside the permission table: whoever asked cannot review, whatever roles they hold. */
	if (r == 0 && cur.requester_id == x->caller->user_id)
		r = bw_err_set(err, BW_EINVAL, "the requester cannot review their own request");
	db_access_clear(&cur);
	if (r == 0) {
		instance_ca_read_lock(x->in);
		r = access_review(x->in->db, &x->in->ssh_ca, x->env->session_wrapper, id, x->caller->user_id,
				  x->caller->name, approve, reason, ops_now(), &issued, err);
		instance_ca_unlock(x->in);
	}
	if (r == 0)
		r = db_access_get(x->in->db, id, a, err);
	if (r == 0 && issued) {
		/* The issuance is its own event, with the certificate's identity, in the same transaction. */
		struct ev_origin o = ops_origin(x->caller);
		struct event iss;
		ev_init(&iss, EV_ACCESS_ISSUED, &o);
		ev_target(&iss, "access:%lld", (long long)id);
		ev_int(&iss, EVF_SERIAL, a->id);
		ev_str(&iss, EVF_KEY_FINGERPRINT, a->key_fp);
		ev_int(&iss, EVF_VALID_AFTER, a->valid_after);
		ev_int(&iss, EVF_VALID_BEFORE, a->valid_before);
		r = ops_record_extra(x, &iss, err);
		ev_clear(&iss);
	}
	if (r == 0)
		ev_str(&ev, EVF_STATE, a->state);
	r = ops_finish(x, op, &ev, r, err);
	if (r != 0)
		db_access_clear(a);
	return r;
}

int
ops_access_revoke(struct ops_ctx *x, int64_t id, const char *reason, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ACCESS_REVOKE, &ev, err);
	ev_target(&ev, "access:%lld", (long long)id);
	if (reason != NULL)
		ev_str(&ev, EVF_REASON, reason);
	if (r == 0 && reason != NULL && !access_text_valid(reason, ACCESS_REASON_MAX))
		r = bw_err_set(err, BW_EINVAL, "reason must be 1..%d characters without control characters",
			       ACCESS_REASON_MAX);
	if (r == 0)
		r = db_access_revoke(x->in->db, id, ops_now(), err);
	return ops_finish(x, OP_ACCESS_REVOKE, &ev, r, err);
}

int
ops_access_certificate(struct ops_ctx *x, int64_t id, struct db_access *a, char **ssh_config, struct bw_err *err)
{
	struct event ev;
	int r;

	memset(a, 0, sizeof *a);
	*ssh_config = NULL;
	r = ops_begin_tx(x, OP_ACCESS_CERTIFICATE, &ev, err);
	ev_target(&ev, "access:%lld", (long long)id);
	if (r == 0)
		r = load_visible(x, id, a, err);
	if (r == 0 && a->requester_id != x->caller->user_id)
		r = bw_err_set(err, BW_EDENIED, "only the requester downloads the certificate");
	if (r == 0 && (strcmp(access_state(a, ops_now()), "issued") != 0 || a->certificate == NULL))
		r = bw_err_set(err, BW_ECONFLICT, "request %lld is %s; no certificate to download", (long long)a->id,
			       access_state(a, ops_now()));
	if (r == 0 && (r = access_ssh_config(x->in->db, a, ssh_config, err)) == 0)
		r = db_access_downloaded(x->in->db, a->id, ops_now(), err);
	r = ops_finish(x, OP_ACCESS_CERTIFICATE, &ev, r, err);
	if (r != 0) {
		db_access_clear(a);
		free(*ssh_config);
		*ssh_config = NULL;
	}
	return r;
}

int
ops_access_review_report(struct ops_ctx *x, struct db_access **as, size_t *n, struct db_user **us, size_t *nu,
			 struct bw_err *err)
{
	struct event ev;
	int r;

	*as = NULL;
	*us = NULL;
	*n = *nu = 0;
	r = ops_begin(x, OP_ACCESS_REVIEW, &ev, err);
	ev_target(&ev, "access:review");
	if (r == 0) {
		ops_access_expire(x);
		if ((r = db_access_list(x->in->db, 0, 10000, as, n, err)) == 0 &&
		    (r = db_user_list(x->in->db, us, nu, err)) != 0) {
			db_access_free(*as, *n);
			*as = NULL;
			*n = 0;
		}
	}
	return ops_finish(x, OP_ACCESS_REVIEW, &ev, r, err);
}

int
ops_access_krl(struct ops_ctx *x, uint8_t **krl, size_t *len, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin(x, OP_ACCESS_KRL, &ev, err);
	ev_target(&ev, "access:krl");
	if (r == 0) {
		const struct bw_ed25519 *cas[2];
		instance_ca_read_lock(x->in);
		r = access_krl(x->in->db, cas, published_cas(x->in, cas), ops_now(), krl, len, err);
		instance_ca_unlock(x->in);
	}
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_ACCESS_KRL, &ev, r, err);
}

int
ops_access_ca(struct ops_ctx *x, char **lines, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	struct event ev;
	int r;

	*lines = NULL;
	r = ops_begin(x, OP_ACCESS_CA, &ev, err);
	ev_target(&ev, "access:ca");
	if (r == 0) {
		const struct bw_ed25519 *cas[2];
		size_t n;
		instance_ca_read_lock(x->in);
		n = published_cas(x->in, cas);
		for (size_t i = 0; r == 0 && i < n; i++) {
			char *line = NULL;
			if ((r = ssh_ca_pubkey_line(cas[i], "bulwark-user-ca", &line, err)) == 0 &&
			    (bw_buf_append_str(&b, line) != 0 || bw_buf_append_byte(&b, '\n') != 0))
				r = bw_err_set(err, BW_ENOMEM, "out of memory");
			free(line);
		}
		instance_ca_unlock(x->in);
	}
	if (r == 0 && (*lines = bw_buf_take(&b, NULL)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
	bw_buf_free(&b);
	if (r == 0) {
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_ACCESS_CA, &ev, r, err);
}

/* The SHA256 fingerprint of a CA ("SHA256:..."), into out. */
static void
ca_fingerprint(const struct bw_ed25519 *ca, char *out, size_t cap)
{
	struct ssh_pubkey k = { 0 };
	struct bw_err e = { 0 };
	char *line = NULL;

	snprintf(out, cap, "?");
	if (ssh_ca_pubkey_line(ca, NULL, &line, &e) == 0 && ssh_pubkey_parse(line, strlen(line), &k, &e) == 0)
		snprintf(out, cap, "%s", k.fingerprint);
	ssh_pubkey_clear(&k);
	free(line);
}

static void
ca_status_read(struct instance *in, struct ops_ca_status *st)
{
	memset(st, 0, sizeof *st);
	instance_ca_read_lock(in);
	st->rot = in->ca_rot;
	ca_fingerprint(&in->ssh_ca, st->signing, sizeof st->signing);
	if (st->rot.phase != INSTANCE_CA_SETTLED)
		ca_fingerprint(&in->ssh_ca_other, st->other, sizeof st->other);
	instance_ca_unlock(in);
}

int
ops_access_ca_status(struct ops_ctx *x, struct ops_ca_status *st, struct bw_err *err)
{
	struct event ev;
	int r;

	memset(st, 0, sizeof *st);
	r = ops_begin(x, OP_ACCESS_CA_STATUS, &ev, err);
	ev_target(&ev, "access:ca");
	if (r == 0) {
		ca_status_read(x->in, st);
		ev_clear(&ev);
		return 0;
	}
	return ops_finish(x, OP_ACCESS_CA_STATUS, &ev, r, err);
}

/* Records the CAs after a rotation step on ev. */
static void
ca_event_fields(struct ops_ctx *x, struct event *ev)
{
	struct ops_ca_status st;

	ca_status_read(x->in, &st);
	ev_str(ev, EVF_CA_SIGNING, st.signing);
	if (st.other[0] != '\0')
		ev_str(ev, EVF_CA_OTHER, st.other);
}

int
ops_access_ca_rotate(struct ops_ctx *x, int64_t overlap_minutes, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ACCESS_CA_ROTATE, &ev, err);
	ev_target(&ev, "access:ca");
	ev_int(&ev, EVF_OVERLAP_MINUTES, overlap_minutes);
	if (r == 0 && (overlap_minutes < 0 || overlap_minutes > 60 * 24 * 90))
		r = bw_err_set(err, BW_EINVAL, "overlap_minutes must be 0..129600 (90 days)");
	if (r == 0 && (r = instance_ca_rotate(x->in, ops_now(), overlap_minutes * 60, err)) == 0)
		ca_event_fields(x, &ev);
	return ops_finish(x, OP_ACCESS_CA_ROTATE, &ev, r, err);
}

int
ops_access_ca_activate(struct ops_ctx *x, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_ACCESS_CA_ACTIVATE, &ev, err);
	ev_target(&ev, "access:ca");
	if (r == 0 && (r = instance_ca_activate(x->in, ops_now(), err)) == 0)
		ca_event_fields(x, &ev);
	return ops_finish(x, OP_ACCESS_CA_ACTIVATE, &ev, r, err);
}

int
ops_access_ca_retire(struct ops_ctx *x, struct bw_err *err)
{
	struct ops_ca_status before;
	struct db_cert *certs = NULL;
	struct event ev;
	size_t ncerts = 0;
	int64_t n = 0, until = 0;
	int r;

	r = ops_begin_tx(x, OP_ACCESS_CA_RETIRE, &ev, err);
	ev_target(&ev, "access:ca");
	ca_status_read(x->in, &before);
	/* Every certificate the old CA signed must have ended: hosts given only the new CA would refuse it, and a
	   revoked one would drop out of the KRL while hosts that still trust the old CA accept it. */
	if (r == 0 && before.rot.phase == INSTANCE_CA_ACTIVATED &&
	    (r = db_access_certs_in_force(x->in->db, ops_now(), &certs, &ncerts, err)) == 0) {
		uint8_t signer[32];
		instance_ca_read_lock(x->in);
		for (size_t i = 0; i < ncerts; i++)
			if (ssh_cert_signer(certs[i].certificate, signer, NULL) != 0 ||	/* unreadable: counted, fail closed */
			    memcmp(signer, x->in->ssh_ca_other.pk, 32) == 0) {
				n++;
				until = certs[i].valid_before > until ? certs[i].valid_before : until;
			}
		instance_ca_unlock(x->in);
		db_certs_free(certs, ncerts);
	}
	if (r == 0 && n > 0)
		r = bw_err_set(err, BW_ECONFLICT,
			       "%lld certificate(s) signed by the old CA are valid until %lld (Unix time; revoked ones too, or "
			       "hosts that still trust the old CA would lose their revocation): retire after that",
			       (long long)n, (long long)until);
	if (r == 0 && (r = instance_ca_retire(x->in, ops_now(), err)) == 0) {
		ev_str(&ev, EVF_CA_OTHER, before.other);	/* the retired one */
		ev_str(&ev, EVF_CA_SIGNING, before.signing);
	}
	return ops_finish(x, OP_ACCESS_CA_RETIRE, &ev, r, err);
}

void
ops_access_expire(struct ops_ctx *x)
{
	struct ops_caller sys;
	struct ops_ctx sx = *x;
	struct bw_err err = { 0 };
	int64_t *ids = NULL;
	size_t n = 0, i;
	int r;

	/* The sweep is the server's own operation, whoever's request ran it. */
	ops_caller_system(&sys);
	sx.caller = &sys;
	sx.on_record = NULL;
	sx.tx = false;
	if (ops_authorize(OP_ACCESS_EXPIRE, &sys) != OPS_ALLOW || db_tx_begin(x->in->db, &err) != 0)
		return;
	/* Mark and record in one transaction: an expiry is in the log exactly when it is in the database. */
	r = db_access_expire(x->in->db, ops_now(), &ids, &n, &err);
	for (i = 0; r == 0 && i < n; i++) {
		struct event ev;
		ev_init(&ev, EV_ACCESS_EXPIRED, NULL);
		ev_target(&ev, "access:%lld", (long long)ids[i]);
		r = ops_record_extra(&sx, &ev, &err);
		ev_clear(&ev);
	}
	if ((r = db_tx_end(x->in->db, r, &err)) != 0)
		EV_LOG(EVLOG_ERROR, "access expiry sweep failed", EV_KS("error", err.msg));
	free(ids);
}

int
ops_login_grant(struct ops_ctx *x, const char *ca_fp, size_t ca_fp_len, uint64_t serial, const char *host,
		const char *account, int64_t at_ms, struct ops_login_grant *out, struct bw_err *err)
{
	struct ssh_pubkey ca = { 0 };
	struct access_login_check lc;
	struct db_access a;
	char *line = NULL;
	bool ours;
	int r;

	memset(out, 0, sizeof *out);
	if (x->caller->via != OPS_VIA_SYSTEM)
		return bw_err_set(err, BW_EDENIED, "only the server itself looks up the grants behind logins");
	{
		const struct bw_ed25519 *cas[2];
		size_t n;
		ours = false;
		r = 0;
		instance_ca_read_lock(x->in);
		n = published_cas(x->in, cas);
		for (size_t i = 0; r == 0 && !ours && i < n; i++) {
			line = NULL;
			if ((r = ssh_ca_pubkey_line(cas[i], NULL, &line, err)) == 0 &&
			    (r = ssh_pubkey_parse(line, strlen(line), &ca, err)) == 0)
				ours = strlen(ca.fingerprint) == ca_fp_len && memcmp(ca.fingerprint, ca_fp, ca_fp_len) == 0;
			ssh_pubkey_clear(&ca);
			free(line);
		}
		instance_ca_unlock(x->in);
		if (r != 0)
			return r;
	}
	if (!ours)
		return bw_err_set(err, BW_ENOTFOUND, "the certificate's CA is not bulwark's");
	out->request = serial <= INT64_MAX ? (int64_t)serial : -1;
	out->state = "unknown";	/* signed by bulwark's CA, yet no request has this serial */
	if (out->request < 1)
		return 0;
	if ((r = db_access_get(x->in->db, out->request, &a, err)) == BW_ENOTFOUND) {
		bw_err_clear(err);
		return 0;
	}
	if (r != 0)
		return r;
	access_login_check(&a, host, account, at_ms / 1000, &lc);
	db_access_clear(&a);
	out->state = lc.state;
	out->host_ok = lc.host_ok;
	out->account_ok = lc.account_ok;
	return 0;
}
