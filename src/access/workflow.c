/* access/workflow.c: maintenance requests, four-eyes review, certificate issuance, KRL, snippets. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"

static const char *const permit_names[] = { "pty", "agent-forwarding", "port-forwarding", "x11-forwarding",
					    "user-rc" };

int
access_permits_parse(const char *const *names, size_t n, unsigned *mask, struct bw_err *err)
{
	size_t i, k;

	*mask = 0;
	for (i = 0; i < n; i++) {
		for (k = 0; k < sizeof permit_names / sizeof permit_names[0]; k++)
			if (strcmp(names[i], permit_names[k]) == 0)
				break;
		if (k == sizeof permit_names / sizeof permit_names[0])
			return bw_err_set(err, BW_EINVAL,
					  "unknown permit '%.32s' (pty, agent-forwarding, port-forwarding, x11-forwarding, user-rc)",
					  names[i]);
		*mask |= 1u << k;
	}
	return 0;
}

void
access_permits_format(unsigned mask, char *out, size_t cap)
{
	size_t k, o = 0;

	out[0] = '\0';
	for (k = 0; k < sizeof permit_names / sizeof permit_names[0]; k++)
		if (mask & (1u << k))
			o += (size_t)snprintf(out + o, o < cap ? cap - o : 0, "%s%s", o ? "," : "", permit_names[k]);
}

bool
access_name_valid(const char *s)
{
	return bw_simple_name_valid(s, 64);
}

int
access_source_check(const char *s, struct bw_err *err)
{
	char item[64];
	const char *p = s;
	int count = 0;

	if (*s == '\0' || strlen(s) > 1024)
		return bw_err_set(err, BW_EINVAL, "source_address must be 1..1024 characters");
	while (*p) {
		size_t n = strcspn(p, ",");
		char *slash;
		uint8_t addr[16];
		int family, maxbits;
		if (n == 0 || n >= sizeof item || ++count > 16)
			return bw_err_set(err, BW_EINVAL, "source_address: empty, over-long or too many entries");
		memcpy(item, p, n);
		item[n] = '\0';
		if ((slash = strchr(item, '/')) != NULL)
			*slash = '\0';
		if (inet_pton(AF_INET, item, addr) == 1) {
			family = AF_INET;
			maxbits = 32;
		} else if (inet_pton(AF_INET6, item, addr) == 1) {
			family = AF_INET6;
			maxbits = 128;
		} else {
			return bw_err_set(err, BW_EINVAL, "source_address: '%s' is not an IP address", item);
		}
		(void)family;
		if (slash != NULL) {
			uint64_t bits;
			if (bw_parse_u64(slash + 1, strlen(slash + 1), &bits) != 0 || bits > (uint64_t)maxbits)
				return bw_err_set(err, BW_EINVAL, "source_address: bad prefix length '/%s'", slash + 1);
		}
		p += n;
		if (*p == ',' && *++p == '\0')
			return bw_err_set(err, BW_EINVAL, "source_address: trailing ','");
	}
	return 0;
}

bool
access_text_valid(const char *s, size_t max)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}


static int
append_list(struct bw_buf *b, const char *item)
{
	return (b->len ? bw_buf_append_byte(b, ',') : 0) || bw_buf_append_str(b, item) ? BW_ENOMEM : 0;
}

int
access_request_create(struct bw_db *db, const struct access_new *q, int64_t max_window, int64_t now, int64_t *id,
		      struct bw_err *err)
{
	struct db_host *hosts = NULL;
	struct db_access a = { 0 };
	struct ssh_pubkey key = { 0 };
	struct bw_buf hl = { 0 }, al = { 0 }, pl = { 0 }, kl = { 0 };
	size_t nh = 0, i, k;
	bool critical = false;
	int r;

	/* The fields, one by one. */
	if (q->reason == NULL || !access_text_valid(q->reason, ACCESS_REASON_MAX))
		return bw_err_set(err, BW_EINVAL, "reason is required (1..500 characters, no control characters)");
	if (q->ticket != NULL && !access_name_valid(q->ticket) && !access_text_valid(q->ticket, 64))
		return bw_err_set(err, BW_EINVAL, "ticket must be 1..64 characters");
	if (q->naccounts == 0 || q->naccounts > 16)
		return bw_err_set(err, BW_EINVAL, "accounts: 1..16 account names required");
	for (i = 0; i < q->naccounts; i++)
		if (!access_name_valid(q->accounts[i]))
			return bw_err_set(err, BW_EINVAL, "accounts[%zu]: invalid account name", i);
	if (q->valid_before <= q->valid_after)
		return bw_err_set(err, BW_EINVAL, "window: valid_before must be after valid_after");
	if (q->valid_before <= now)
		return bw_err_set(err, BW_EINVAL, "window: it ends in the past");
	if (q->valid_after < now - ACCESS_PAST_TOLERANCE)
		return bw_err_set(err, BW_EINVAL, "window: it starts in the past (more than %d s ago)",
				  ACCESS_PAST_TOLERANCE);
	if (q->valid_before - q->valid_after > max_window)
		return bw_err_set(err, BW_EINVAL, "window: longer than the policy maximum of %lld s",
				  (long long)max_window);
	if (q->source_address != NULL && (r = access_source_check(q->source_address, err)) != 0)
		return r;
	if (q->force_command != NULL && !access_text_valid(q->force_command, 512))
		return bw_err_set(err, BW_EINVAL, "force_command must be 1..512 printable characters");
	if (q->public_key == NULL ||
	    (r = ssh_pubkey_parse(q->public_key, strlen(q->public_key), &key, err)) != 0)
		return q->public_key == NULL ? bw_err_set(err, BW_EINVAL, "public_key is required")
					     : bw_err_prefix(err, "public_key");
	/* The hosts: named ones, or a group. */
	if ((q->nhosts > 0) == (q->group != NULL)) {
		r = bw_err_set(err, BW_EINVAL, "give either hosts or group");
		goto out;
	}
	if (q->group != NULL) {
		if (!access_name_valid(q->group)) {
			r = bw_err_set(err, BW_EINVAL, "group: invalid name");
			goto out;
		}
		if ((r = db_host_list(db, q->group, &hosts, &nh, err)) != 0)
			goto out;
		if (nh == 0) {
			r = bw_err_set(err, BW_ENOTFOUND, "group '%s' has no hosts", q->group);
			goto out;
		}
	} else {
		if (q->nhosts > 64) {
			r = bw_err_set(err, BW_EINVAL, "hosts: at most 64");
			goto out;
		}
		if ((hosts = calloc(q->nhosts, sizeof *hosts)) == NULL) {
			r = bw_err_set(err, BW_ENOMEM, "out of memory");
			goto out;
		}
		for (nh = 0; nh < q->nhosts; nh++)
			if (!access_name_valid(q->hosts[nh]) ||
			    (r = db_host_by_name(db, q->hosts[nh], &hosts[nh], err)) != 0) {
				r = bw_err_set(err, BW_ENOTFOUND, "unknown host '%.64s'", q->hosts[nh]);
				goto out;
			}
	}
	/* Every account must be allowed on every host. */
	for (i = 0; i < nh; i++) {
		critical |= strcmp(hosts[i].grp, ACCESS_CRITICAL_GROUP) == 0;
		if (append_list(&hl, hosts[i].name) != 0)
			goto nomem;
		for (k = 0; k < q->naccounts; k++) {
			char pr[160];
			if (!bw_list_contains(hosts[i].accounts, q->accounts[k])) {
				r = bw_err_set(err, BW_EINVAL, "account '%s' is not allowed on host '%s'", q->accounts[k],
					       hosts[i].name);
				goto out;
			}
			snprintf(pr, sizeof pr, "%s@%s", q->accounts[k], hosts[i].name);
			if (append_list(&pl, pr) != 0)
				goto nomem;
		}
	}
	for (k = 0; k < q->naccounts; k++)
		if (append_list(&al, q->accounts[k]) != 0)
			goto nomem;
	if (nh * q->naccounts > SSH_MAX_PRINCIPALS) {
		r = bw_err_set(err, BW_EINVAL, "too many host x account principals (at most %d)", SSH_MAX_PRINCIPALS);
		goto out;
	}
	{
		/* Keep the key as "TYPE BASE64": the comment is not the user's to set in our records. */
		const char *sp = strchr(q->public_key, ' ');
		const char *end = sp ? strpbrk(sp + 1, " \r\n") : NULL;
		if (bw_buf_append(&kl, q->public_key, end ? (size_t)(end - q->public_key) : strlen(q->public_key)) != 0)
			goto nomem;
	}
	a.requester_id = q->requester_id;
	a.hosts = (char *)hl.data;
	a.accounts = (char *)al.data;
	a.principals = (char *)pl.data;
	a.valid_after = q->valid_after;
	a.valid_before = q->valid_before;
	a.reason = (char *)q->reason;
	a.ticket = (char *)q->ticket;
	a.pubkey = (char *)kl.data;
	a.key_fp = key.fingerprint;
	a.source_address = (char *)q->source_address;
	a.force_command = (char *)q->force_command;
	a.permits = q->permits;
	a.approvals_needed = critical ? 2 : 1;
	a.created_at = now;
	r = db_access_insert(db, &a, id, err);
	goto out;
nomem:
	r = bw_err_set(err, BW_ENOMEM, "out of memory");
out:
	db_hosts_free(hosts, q->group != NULL ? nh : q->nhosts);
	ssh_pubkey_clear(&key);
	bw_buf_free(&hl);
	bw_buf_free(&al);
	bw_buf_free(&pl);
	bw_buf_free(&kl);
	return r;
}


int
access_review(struct bw_db *db, const struct bw_ed25519 *ca, const char *wrapper, int64_t id, int64_t reviewer_id,
	      const char *reviewer, bool approve, const char *reason, int64_t now, bool *issued, struct bw_err *err)
{
	struct db_access a;
	struct ssh_pubkey key = { 0 };
	char *cert = NULL, *principals = NULL, *force = NULL, keyid[512];
	const char *plist[SSH_MAX_PRINCIPALS];
	int r;

	*issued = false;
	if (reason != NULL && !access_text_valid(reason, ACCESS_REASON_MAX))
		return bw_err_set(err, BW_EINVAL, "reason must be 1..500 characters");
	if ((r = db_access_get(db, id, &a, err)) != 0)
		return r;
	/* Pre-sign when this approval completes the request; the transaction decides. */
	if (approve && strcmp(a.state, "pending") == 0 && a.approvals + 1 >= a.approvals_needed) {
		struct ssh_cert_req q = { 0 };
		if ((r = ssh_pubkey_parse(a.pubkey, strlen(a.pubkey), &key, err)) != 0 ||
		    (principals = strdup(a.principals)) == NULL) {
			r = r ? r : bw_err_set(err, BW_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(keyid, sizeof keyid, "req-%lld:%s:approvers=%s%s%s", (long long)a.id, a.requester,
			 a.approvers ? a.approvers : "", a.approvers ? "," : "", reviewer);
		q.key = &key;
		q.serial = (uint64_t)a.id;
		q.key_id = keyid;
		q.principals = plist;
		if ((q.nprincipals = bw_list_split(principals, plist, SSH_MAX_PRINCIPALS)) > SSH_MAX_PRINCIPALS) {
			r = bw_err_set(err, BW_ECORRUPT, "request %lld: more than %d principals", (long long)a.id,
				       SSH_MAX_PRINCIPALS);
			goto out;
		}
		q.valid_after = (uint64_t)a.valid_after;
		q.valid_before = (uint64_t)a.valid_before;
		q.source_address = a.source_address;
		if ((r = access_force_command(wrapper, a.valid_before, a.force_command, &force, err)) != 0)
			goto out;
		q.force_command = force;
		q.permit_pty = (a.permits & ACCESS_PERMIT_PTY) != 0;
		q.permit_agent = (a.permits & ACCESS_PERMIT_AGENT) != 0;
		q.permit_port = (a.permits & ACCESS_PERMIT_PORT) != 0;
		q.permit_x11 = (a.permits & ACCESS_PERMIT_X11) != 0;
		q.permit_user_rc = (a.permits & ACCESS_PERMIT_USER_RC) != 0;
		if ((r = ssh_cert_sign(ca, &q, keyid, &cert, err)) != 0)
			goto out;
	}
	r = db_access_review(db, id, reviewer_id, approve, reason, cert, now, issued, err);
out:
	if (cert != NULL)
		bw_memzero(cert, strlen(cert));
	free(cert);
	free(principals);
	free(force);
	ssh_pubkey_clear(&key);
	db_access_clear(&a);
	return r;
}

const char *
access_state(const struct db_access *a, int64_t now)
{
	if (strcmp(a->state, "issued") == 0 && now >= a->valid_before)
		return "expired";
	if (strcmp(a->state, "pending") == 0 && now >= a->valid_before)
		return "expired";
	return a->state;
}

void
access_login_check(const struct db_access *a, const char *host, const char *account, int64_t at,
		   struct access_login_check *out)
{
	char principal[2 * SSH_PRINCIPAL_MAX + 2];

	if (strcmp(a->state, "issued") != 0 && strcmp(a->state, "revoked") != 0)
		out->state = "not_issued";	/* pending or denied: no certificate was ever handed out */
	else if (strcmp(a->state, "revoked") == 0 && a->revoked_at <= at)
		out->state = "revoked";
	else if (at < a->valid_after)
		out->state = "not_yet";
	else if (at >= a->valid_before)
		out->state = "expired";
	else
		out->state = "active";
	out->host_ok = bw_list_contains(a->hosts, host);
	snprintf(principal, sizeof principal, "%s@%s", account, host);
	out->account_ok = strlen(account) <= SSH_PRINCIPAL_MAX && strlen(host) <= SSH_PRINCIPAL_MAX &&
			  bw_list_contains(a->principals, principal);
}

int
access_krl(struct bw_db *db, const struct bw_ed25519 *const *cas, size_t ncas, int64_t now, uint8_t **out, size_t *len,
	   struct bw_err *err)
{
	uint64_t *serials = NULL;
	size_t n = 0;
	int r;

	if ((r = db_access_revoked(db, &serials, &n, err)) != 0)
		return r;
	/* The KRL version grows with each revocation: hosts can tell a newer list. */
	r = ssh_krl_build(cas, ncas, serials, n, (uint64_t)n, (uint64_t)now, out, len, err);
	free(serials);
	return r;
}

void
access_address_split(const char *address, char *host, size_t cap, unsigned *port)
{
	const char *colon = strrchr(address, ':');
	uint64_t v;

	*port = 0;
	snprintf(host, cap, "%s", address);
	if (colon == NULL || bw_parse_u64(colon + 1, strlen(colon + 1), &v) != 0 || v == 0 || v > 65535)
		return;
	if (address[0] == '[' && colon > address && colon[-1] == ']') {	/* [2001:db8::1]:2222 */
		snprintf(host, cap, "%.*s", (int)(colon - address - 2), address + 1);
		*port = (unsigned)v;
	} else if (strchr(address, ':') == colon) {	/* host:2222 (one colon: not a bare IPv6 address) */
		snprintf(host, cap, "%.*s", (int)(colon - address), address);
		*port = (unsigned)v;
	}
}

int
access_ssh_config(struct bw_db *db, const struct db_access *a, char **out, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	char *hosts = strdup(a->hosts), *accts = strdup(a->accounts);
	const char *hl[64], *al[16];
	size_t nh, na, i;
	int r = 0;

	*out = NULL;
	if (hosts == NULL || accts == NULL) {
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
		goto out;
	}
	if ((nh = bw_list_split(hosts, hl, 64)) > 64 || (na = bw_list_split(accts, al, 16)) > 16) {
		r = bw_err_set(err, BW_ECORRUPT, "request %lld: stored host or account list too long", (long long)a->id);
		goto out;
	}
	bw_buf_printf(&b, "# bulwark access request %lld: the certificate is ~/.ssh/bulwark-%lld-cert.pub (bulwark access "
			  "ssh-config saves it there); the key is the one the request was made with (%s)\n",
		      (long long)a->id, (long long)a->id, a->key_fp);
	for (i = 0; i < nh; i++) {
		struct db_host h;
		char host[256];
		unsigned port = 0;
		if (db_host_by_name(db, hl[i], &h, NULL) != 0)
			continue;
		access_address_split(h.address, host, sizeof host, &port);
		bw_buf_printf(&b, "Host bulwark-%s\n    HostName %s\n", h.name, host);
		if (port != 0)
			bw_buf_printf(&b, "    Port %u\n", port);
		bw_buf_printf(&b, "    User %s\n    CertificateFile ~/.ssh/bulwark-%lld-cert.pub\n"
				  "    " ACCESS_IDENTITY_LINE " %s\n    IdentitiesOnly yes\n",
			      na > 0 ? al[0] : "root", (long long)a->id, a->key_fp);
		db_host_clear(&h);
	}
	if ((*out = bw_buf_take(&b, NULL)) == NULL)
		r = bw_err_set(err, BW_ENOMEM, "out of memory");
out:
	bw_buf_free(&b);
	free(hosts);
	free(accts);
	return r;
}

int
access_sshd_config(const struct db_host *h, const char *server_url, char **out, struct bw_err *err)
{
	struct bw_buf b = { 0 };
	char *accts = strdup(h->accounts);
	const char *al[64];
	size_t na, i;

	*out = NULL;
	if (accts == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	if ((na = bw_list_split(accts, al, 64)) > 64) {
		free(accts);
		return bw_err_set(err, BW_ECORRUPT, "host %s: more than 64 accounts stored", h->name);
	}
	bw_buf_printf(&b,
		      "# sshd_config for host '%s' (bulwark remote-maintenance access)\n"
		      "TrustedUserCAKeys /etc/ssh/bulwark_user_ca.pub\n"
		      "RevokedKeys /etc/ssh/bulwark_revoked.krl\n"
		      "AuthorizedPrincipalsFile /etc/ssh/bulwark_principals/%%u\n"
		      "ExposeAuthInfo yes\n"
		      "LogLevel VERBOSE\n"
		      "UsePAM yes\n"
		      "# (with /etc/pam.d/sshd's pam_loginuid: each session gets the audit session id the guard uses)\n"
		      "\n"
		      "# the session guard (root; ends every process of a session at its window's end; the wrapper\n"
		      "# refuses sessions while it is not running): bulwark agent guard, e.g. as a systemd service\n"
		      "\n"
		      "# files (copy the server's certificate, DATA/tls/cert.pem, to /etc/ssh/bulwark_server.pem first;\n"
		      "# each file is fetched to a temporary name and moved into place only when complete):\n"
		      "#   curl -fsS --cacert /etc/ssh/bulwark_server.pem -o " ACCESS_WRAPPER_DEFAULT ".new"
		      " %s/api/v1/access/session-wrapper && chmod 755 " ACCESS_WRAPPER_DEFAULT ".new && mv "
		      ACCESS_WRAPPER_DEFAULT ".new " ACCESS_WRAPPER_DEFAULT "\n"
		      "#   curl -fsS --cacert /etc/ssh/bulwark_server.pem -o /etc/ssh/bulwark_user_ca.pub.new"
		      " %s/api/v1/access/ca && mv /etc/ssh/bulwark_user_ca.pub.new /etc/ssh/bulwark_user_ca.pub\n"
		      "#   curl -fsS --cacert /etc/ssh/bulwark_server.pem -o /etc/ssh/bulwark_revoked.krl.new"
		      " %s/api/v1/access/krl && mv /etc/ssh/bulwark_revoked.krl.new /etc/ssh/bulwark_revoked.krl\n"
		      "#   (cron: the krl line every minute, */1 * * * * root <the krl line above>; the CA line hourly,\n"
		      "#   0 * * * * root <the CA line above>: a new CA is published beside the old one for an overlap\n"
		      "#   before it signs, so hosts that refresh it hourly never refuse a new certificate)\n",
		      h->name, server_url, server_url, server_url);
	for (i = 0; i < na; i++)
		bw_buf_printf(&b, "#   echo '%s@%s' > /etc/ssh/bulwark_principals/%s\n", al[i], h->name, al[i]);
	free(accts);
	if ((*out = bw_buf_take(&b, NULL)) == NULL) {
		bw_buf_free(&b);
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	}
	return 0;
}
