/* ops/permissions.c: the permission table, callers, and the object-level rules beside it. */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ops.h"

static const struct op_def table[OP_COUNT] = {
#define OP(id, name, roles, event, flags) [id] = { name, roles, event, flags },
#include "ops_table.def"
#undef OP
};

const struct op_def *
ops_def(enum op_id op)
{
	return (unsigned)op < OP_COUNT ? &table[op] : NULL;
}

bool
ops_always_audited(enum op_id op)
{
	return (unsigned)op < OP_COUNT && (table[op].flags & (OPF_STATE | OPF_AUDITED_READ)) != 0;
}

void
ops_caller_anonymous(struct ops_caller *c, const char *source, const char *request_id)
{
	memset(c, 0, sizeof *c);
	c->via = OPS_VIA_NONE;
	snprintf(c->name, sizeof c->name, "-");
	c->source = source;
	c->request_id = request_id;
}

void
ops_caller_signed_in(struct ops_caller *c, const struct auth_identity *id, const char *source,
		     const char *request_id)
{
	memset(c, 0, sizeof *c);
	c->roles = id->roles;
	c->source = source;
	c->request_id = request_id;
	if (id->kind == AUTH_KIND_HOST) {
		c->via = OPS_VIA_HOST;
		c->host_id = id->host_id;
		snprintf(c->host, sizeof c->host, "%s", id->username);
		snprintf(c->name, sizeof c->name, "host %s", id->username);
		return;
	}
	if (id->kind == AUTH_KIND_PARTNER) {
		c->via = OPS_VIA_PARTNER;
		c->partner_id = id->partner_id;
		snprintf(c->org, sizeof c->org, "%s", id->org);
		snprintf(c->name, sizeof c->name, "partner %s", id->username);
		return;
	}
	c->via = id->kind == DB_TOKEN_API ? OPS_VIA_API_TOKEN : OPS_VIA_SESSION;
	c->user_id = id->user_id;
	snprintf(c->name, sizeof c->name, "%s", id->username);
	c->source = source;
	c->request_id = request_id;
}

void
ops_caller_local(struct ops_caller *c)
{
	uid_t uid = getuid();
	struct passwd pw, *res = NULL;
	char buf[1024];

	memset(c, 0, sizeof *c);
	c->via = OPS_VIA_LOCAL;
	c->roles = ROLE_ADMIN;
	/* The OS account that ran the command; its name only when the system knows it. */
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL && strlen(pw.pw_name) <= 64)
		snprintf(c->name, sizeof c->name, "uid %u (%s)", (unsigned)uid, pw.pw_name);
	else
		snprintf(c->name, sizeof c->name, "uid %u", (unsigned)uid);
	c->source = "local";
}

void
ops_caller_system(struct ops_caller *c)
{
	memset(c, 0, sizeof *c);
	c->via = OPS_VIA_SYSTEM;
	snprintf(c->name, sizeof c->name, "-");
	c->source = "-";
}

void
ops_caller_group(const struct ops_caller *c, char out[BW_ADDR_GROUP_MAX])
{
	bw_addr_group(c->source != NULL ? c->source : "?", out, BW_ADDR_GROUP_MAX);
}

struct ev_origin
ops_origin(const struct ops_caller *c)
{
	struct ev_origin o = { .actor = c->name, .source = c->source, .request_id = c->request_id };
	return o;
}

int
ops_authenticate(struct instance *in, const char *token, int64_t now, struct auth_identity *id, struct bw_err *err)
{
	return auth_authenticate(&in->auth, token, now, id, err);
}

enum ops_decision
ops_authorize(enum op_id op, const struct ops_caller *c)
{
	const struct op_def *d = ops_def(op);

	if (d == NULL)
		return OPS_FORBIDDEN;	/* fail closed */
	if (d->flags & OPF_SYSTEM_ONLY)
		return c->via == OPS_VIA_SYSTEM ? OPS_ALLOW : OPS_FORBIDDEN;
	if ((d->flags & OPF_SYSTEM_TOO) && c->via == OPS_VIA_SYSTEM)
		return OPS_ALLOW;
	if ((d->flags & OPF_LOCAL_ONLY) && c->via != OPS_VIA_LOCAL)
		return OPS_FORBIDDEN;
	if (d->roles == OPS_PUBLIC)
		return OPS_ALLOW;
	if (c->via == OPS_VIA_NONE || c->via == OPS_VIA_SYSTEM)
		return OPS_UNAUTHENTICATED;
	if ((c->roles & d->roles) == 0)
		return OPS_FORBIDDEN;
	if ((d->flags & OPF_SESSION_ONLY) && c->via == OPS_VIA_API_TOKEN)
		return OPS_FORBIDDEN;
	return OPS_ALLOW;
}

bool
ops_caller_is_host(const struct ops_caller *c, const char *host)
{
	return c->via == OPS_VIA_HOST && host != NULL && strcmp(c->host, host) == 0;
}

bool
ops_sees_all_access(const struct ops_caller *c)
{
	return (c->roles & (ROLE_ADMIN | ROLE_APPROVER | ROLE_AUDITOR)) != 0;
}

int64_t
ops_token_revoke_owner(const struct ops_caller *c)
{
	return (c->roles & ROLE_ADMIN) ? -1 : c->user_id;
}

void
ops_ev_roles(struct event *ev, enum ev_field f, unsigned mask)
{
	const char *names[8];
	size_t n = 0;
	unsigned bit;

	for (bit = 1; (bit & ROLE_ALL) && n < 8; bit <<= 1)
		if (mask & bit)
			names[n++] = auth_role_name(bit);
	ev_list(ev, f, names, n);
}

int
ops_record(struct ops_ctx *x, struct event *ev, uint64_t *index, struct bw_err *err)
{
	return audit_record(x->al, ev, index, err);
}
