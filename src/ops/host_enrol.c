/* ops/host_enrol.c: a host's agent credential: enrolment codes, the exchange, revocation. */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "ops_internal.h"

static int
find_host(struct ops_ctx *x, const char *name, struct db_host *h, struct bw_err *err)
{
	if (!access_name_valid(name) || db_host_by_name(x->in->db, name, h, err) != 0)
		return bw_err_set(err, BW_ENOTFOUND, "no such host");
	return 0;
}

int
ops_host_enrol_code(struct ops_ctx *x, const char *name, int64_t hours, struct auth_code *code, struct bw_err *err)
{
	struct db_host h = { 0 };
	struct event ev;
	int r;

	memset(code, 0, sizeof *code);
	r = ops_begin_tx(x, OP_HOST_ENROL_CODE, &ev, err);
	ev_target(&ev, "host:%.64s", name);
	if (r == 0 && (r = find_host(x, name, &h, err)) == 0 &&
	    (r = auth_enrol_issue(&x->in->auth, DB_ENROL_HOST, h.id, x->caller->name, ops_now(), hours, code, err)) == 0)
		ev_int(&ev, EVF_CODE_EXPIRES, code->expires_at);
	db_host_clear(&h);
	r = ops_finish(x, OP_HOST_ENROL_CODE, &ev, r, err);
	if (r != 0)
		bw_memzero(code, sizeof *code);
	return r;
}

int
ops_host_enrol(struct ops_ctx *x, const char *code, char host[72], char credential[AUTH_TOKEN_TEXT_MAX],
	       struct bw_err *err)
{
	struct db_enrolment e = { 0 };
	struct event ev;
	int r;

	host[0] = credential[0] = '\0';
	r = ops_begin_tx(x, OP_HOST_ENROL, &ev, err);
	ev_target(&ev, "host:?");
	if (r == 0 && (r = auth_enrol_find(&x->in->auth, DB_ENROL_HOST, code, ops_now(), &e, err)) == 0) {
		ev_target(&ev, "host:%.64s", e.subject);
		ev_str(&ev, EVF_ISSUED_BY, e.issued_by);
		snprintf(host, 72, "%s", e.subject);
		r = auth_enrol_host_finish(&x->in->auth, &e, ops_now(), x->caller->source, credential, err);
	}
	db_enrolment_clear(&e);
	r = ops_finish(x, OP_HOST_ENROL, &ev, r, err);
	if (r != 0)
		bw_memzero(credential, AUTH_TOKEN_TEXT_MAX);
	return r;
}

int
ops_host_revoke(struct ops_ctx *x, const char *name, struct bw_err *err)
{
	struct db_host h = { 0 };
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_HOST_REVOKE, &ev, err);
	ev_target(&ev, "host:%.64s", name);
	if (r == 0 && (r = find_host(x, name, &h, err)) == 0)
		r = db_host_credential_revoke(x->in->db, h.id, err);
	db_host_clear(&h);
	return ops_finish(x, OP_HOST_REVOKE, &ev, r, err);
}
