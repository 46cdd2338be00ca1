/*
 * ops/reports.c: reported mails and files. Anyone signed in reports a
 * sample (a mail or a file, with a comment) and later sees the outcome of
 * their own reports; the sample is sealed on disk at once (libsodium
 * secretstream under a subkey of the KEK, bound to the report's id and
 * hash) and queued; the server triages it in an isolated worker and
 * records the verdict (a threat is an alert). Analysts, admins and
 * auditors read the inbox. Nothing from a sample is ever run or rendered.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops_internal.h"
#include "store/store.h"
#include "share/share.h"
#include "triage/triage.h"

#define REPORT_LIST_MAX 500

/* The key samples are sealed under: a subkey of the KEK for this purpose only. */
static void
samples_key(const struct instance *in, uint8_t key[32])
{
	bw_kdf_subkey(in->kek, "samples_", 1, key);
}

static int
sample_path(const struct instance *in, int64_t id, char *out, size_t cap, struct bw_err *err)
{
	if ((size_t)snprintf(out, cap, "%s/%s/%lld.sealed", in->data, INSTANCE_SAMPLES_DIR, (long long)id) >= cap)
		return bw_err_set(err, BW_ERANGE, "data directory path too long");
	return 0;
}

/* What the sealed file is bound to: a file moved under another report does not open. */
static size_t
sample_ad(int64_t id, const char *sha256, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "bulwark report %lld %s", (long long)id, sha256);
}

/* A report's sample, unsealed (caller frees *data); BW_EVERIFY when the sealed file does not open. */
static int
sample_open(const struct instance *in, const struct db_report *row, uint8_t **data, size_t *len, struct bw_err *err)
{
	char path[4200], ad[160];
	uint8_t key[32];
	int r;

	samples_key(in, key);
	sample_ad(row->id, row->sha256, ad, sizeof ad);
	if ((r = sample_path(in, row->id, path, sizeof path, err)) == 0)
		r = bw_stream_open_file(key, ad, strlen(ad), path, OPS_REPORT_MAX, data, len, err);
	bw_memzero(key, sizeof key);
	return r;
}

/* A sample arriving in pieces: sealed to a temporary file as it comes, hashed, counted. */
struct ops_sample_upload {
	struct bw_stream_writer *w;
	struct bw_sha256 *hash;
	uint64_t len;
	bool failed, too_large;
	char error[200];
};

int
ops_report_upload_begin(struct ops_ctx *x, const char *request_id, struct ops_sample_upload **out, struct bw_err *err)
{
	struct ops_sample_upload *u = calloc(1, sizeof *u);
	char dir[4200], tmp[4300];
	uint8_t key[32];
	int r;

	*out = NULL;
	if (u == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	snprintf(dir, sizeof dir, "%s/%s", x->in->data, INSTANCE_SAMPLES_DIR);
	snprintf(tmp, sizeof tmp, "%s/.upload-%.32s", dir, request_id);
	samples_key(x->in, key);
	if ((r = bw_mkdir_p(dir, 0700, err)) == 0 && (r = bw_sha256_new(&u->hash, err)) == 0) {
		bw_sha256_init(u->hash);
		r = bw_stream_writer_open(key, tmp, &u->w, err);
	}
	bw_memzero(key, sizeof key);
	if (r != 0) {
		ops_report_upload_free(u);
		return r;
	}
	*out = u;
	return 0;
}

void
ops_report_upload_add(struct ops_sample_upload *u, const void *data, size_t n)
{
	struct bw_err err = { 0 };

	if (u == NULL || u->failed || u->too_large)
		return;
	u->len += n;
	if (u->len > OPS_REPORT_MAX) {
		u->too_large = true;	/* nothing more is written: the request is refused at its end */
		return;
	}
	bw_sha256_update(u->hash, data, n);
	if (bw_stream_writer_add(u->w, data, n, &err) != 0) {
		u->failed = true;
		snprintf(u->error, sizeof u->error, "%.199s", err.msg);
	}
}

bool
ops_report_upload_too_large(const struct ops_sample_upload *u)
{
	return u != NULL && u->too_large;
}

void
ops_report_upload_free(struct ops_sample_upload *u)
{
	if (u == NULL)
		return;
	bw_stream_writer_abort(u->w);	/* not taken: the temporary file goes */
	bw_sha256_free(u->hash);
	free(u);
}

bool
ops_text_ok(const char *s, size_t max, bool lines)
{
	size_t len = strlen(s), i = 0, n;
	uint32_t cp;

	if (len > max)
		return false;
	while (i < len) {
		if ((n = bw_utf8_decode((const uint8_t *)s + i, len - i, &cp)) == 0)
			return false;
		if ((cp < 0x20 && !(lines && (cp == '\n' || cp == '\t'))) || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}

/* A report: checked, stored, its sample sealed; op is report.submit (the caller reports) or report.mail. */
static int
submit(struct ops_ctx *x, enum op_id op, const struct ops_report_in *in, struct ops_sample_upload *u,
       const char *reporter, int64_t *id, struct bw_err *err)
{
	struct db_report row = { 0 };
	struct event ev;
	char path[4200], dir[4200], ad[160];
	uint8_t sum[32], key[32];
	bool written = false;
	size_t i;
	int r;

	size_t len = u != NULL ? (u->too_large ? OPS_REPORT_MAX + 1 : (size_t)u->len) : in->len;

	*id = 0;
	r = ops_begin_tx(x, op, &ev, err);
	ev_target(&ev, "report:-");
	if (r == 0 && (len == 0 || len > OPS_REPORT_MAX))
		r = bw_err_set(err, len == 0 ? BW_EINVAL : BW_ERANGE, "a report is 1 byte to %zu MiB",
			       OPS_REPORT_MAX >> 20);
	if (r == 0 && u != NULL && (u->failed || u->w == NULL))
		r = bw_err_set(err, BW_EIO, "the sample could not be stored: %s", u->error);
	if (r == 0 && !ops_text_ok(in->file_name ? in->file_name : "", 255, false))
		r = bw_err_set(err, BW_EINVAL, "the file name must be UTF-8 without control characters, at most 255 bytes");
	if (r == 0 && op == OP_REPORT_MAIL && (in->email == NULL || !bw_email_valid(in->email)))
		r = bw_err_set(err, BW_EINVAL, "the sender's address is missing or not a plain mail address");
	if (r == 0 && !ops_text_ok(in->comment ? in->comment : "", 1024, true))
		r = bw_err_set(err, BW_EINVAL, "the comment must be UTF-8 text of at most 1024 bytes");
	if (r == 0 && u != NULL)
		bw_sha256_final(u->hash, sum);
	else if (r == 0 && (r = bw_sha256_oneshot(in->data, in->len, sum)) != 0)
		bw_err_set(err, BW_EIO, "SHA-256 failed");
	if (r == 0) {
		for (i = 0; i < 32; i++)
			snprintf(row.sha256 + 2 * i, 3, "%02x", sum[i]);
		snprintf(row.reporter, sizeof row.reporter, "%.70s", reporter);
		row.reporter_verified = in->reporter_verified;
		snprintf(row.channel, sizeof row.channel, "%s", in->channel ? in->channel : "api");
		snprintf(row.comment, sizeof row.comment, "%s", in->comment ? in->comment : "");
		snprintf(row.file_name, sizeof row.file_name, "%s", in->file_name ? in->file_name : "");
		row.size = (int64_t)len;
		ev_str(&ev, EVF_SHA256, row.sha256);
		ev_int(&ev, EVF_LENGTH, row.size);
		if (op == OP_REPORT_MAIL) {
			ev_str(&ev, EVF_EMAIL, in->email != NULL ? in->email : "");
			ev_str(&ev, EVF_REPORTER, row.reporter);
			ev_bool(&ev, EVF_REPORTER_VERIFIED, row.reporter_verified);
		} else {
			ev_str(&ev, EVF_FILE_NAME, row.file_name);
		}
		ev_str(&ev, EVF_CHANNEL, row.channel);
		r = db_report_add(x->in->db, &row, ops_now(), id, err);
	}
	if (r == 0) {
		ev_target(&ev, "report:%lld", (long long)*id);
		snprintf(dir, sizeof dir, "%s/%s", x->in->data, INSTANCE_SAMPLES_DIR);
		samples_key(x->in, key);
		sample_ad(*id, row.sha256, ad, sizeof ad);
		if ((r = bw_mkdir_p(dir, 0700, err)) == 0 && (r = sample_path(x->in, *id, path, sizeof path, err)) == 0) {
			if (u != NULL) {
				/* streamed: its last chunk is bound to the report and hash now known */
				r = bw_stream_writer_finish(u->w, ad, strlen(ad), path, err);
				u->w = NULL;
			} else {
				r = bw_stream_seal_file(key, ad, strlen(ad), in->data, in->len, path, err);
			}
			written = r == 0;
		}
		bw_memzero(key, sizeof key);
	}
	r = ops_finish(x, op, &ev, r, err);
	if (r != 0 && written)
		unlink(path);	/* the report was not recorded: no sample without it */
	return r;
}

int
ops_report_submit_upload(struct ops_ctx *x, const struct ops_report_in *in, struct ops_sample_upload *u, int64_t *id,
			 struct bw_err *err)
{
	struct ops_report_in api = *in;

	api.channel = "api";
	api.reporter_verified = true;	/* signed in */
	api.data = NULL;
	api.len = 0;
	return submit(x, OP_REPORT_SUBMIT, &api, u, x->caller->name, id, err);
}

int
ops_report_mail(struct ops_ctx *x, const struct ops_report_in *in, int64_t *id, char reporter[72], struct bw_err *err)
{
	struct ops_report_in mail = *in;
	char user[72] = "";
	int r;

	reporter[0] = '\0';
	mail.channel = "mail";
	mail.file_name = "";
	if (in->email != NULL && bw_email_valid(in->email) && (r = db_user_by_email(x->in->db, in->email, user, err)) != 0)
		return r;
	if (user[0] == '\0')
		mail.reporter_verified = false;	/* nobody to verify: an outsider's or a mistyped address */
	if ((r = submit(x, OP_REPORT_MAIL, &mail, NULL, user, id, err)) == 0)
		memcpy(reporter, user, 72);
	return r;
}

int
ops_report_mine(struct ops_ctx *x, struct db_report **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_REPORT_MINE, &ev, err);
	ev_target(&ev, "report:mine");
	if (r == 0)
		r = db_report_list(x->in->db, x->caller->name, REPORT_LIST_MAX, out, n, err);
	return ops_finish(x, OP_REPORT_MINE, &ev, r, err);
}

int
ops_report_list(struct ops_ctx *x, size_t limit, struct db_report **out, size_t *n, struct bw_err *err)
{
	struct event ev;
	int r;

	*out = NULL;
	*n = 0;
	r = ops_begin(x, OP_REPORT_LIST, &ev, err);
	ev_target(&ev, "report:*");
	if (r == 0)
		r = db_report_list(x->in->db, NULL, limit == 0 || limit > REPORT_LIST_MAX ? REPORT_LIST_MAX : limit, out, n,
				   err);
	return ops_finish(x, OP_REPORT_LIST, &ev, r, err);
}

int
ops_report_get(struct ops_ctx *x, int64_t id, struct db_report *out, struct bw_err *err)
{
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin(x, OP_REPORT_GET, &ev, err);
	ev_target(&ev, "report:%lld", (long long)id);
	if (r == 0)
		r = db_report_get(x->in->db, id, out, err);
	return ops_finish(x, OP_REPORT_GET, &ev, r, err);
}

int
ops_report_pending_sample(struct ops_ctx *x, int64_t *id, char name[264], uint8_t **data, size_t *len,
			  struct bw_err *err)
{
	struct db_report row;
	int r;

	*data = NULL;
	*len = 0;
	name[0] = '\0';
	if ((r = db_report_next_pending(x->in->db, id, err)) != 0 || *id == 0)
		return r;
	if ((r = db_report_get(x->in->db, *id, &row, err)) != 0)
		return r;
	snprintf(name, 264, "%s", row.file_name);
	r = sample_open(x->in, &row, data, len, err);
	db_report_clear(&row);
	return r;
}

/*
 * Groups a triaged report with reports of the same lure: what identifies
 * the lure itself among its indicators: the hashes of what it carries (a
 * mail's own hash differs for every recipient, so not that one), its
 * sender, its URLs (not mere domains or YARA rule names, shared by
 * unrelated samples).
 */
static int
group(struct ops_ctx *x, const struct db_report *row, const json_t *result, int64_t *incident, struct bw_err *err)
{
	const char *types[256], *values[256];
	const json_t *it;
	size_t i, n = 0;
	bool first_hash = true;

	json_array_foreach(json_object_get(result, "indicators"), i, it) {
		const char *t = json_string_value(json_object_get(it, "type"));
		const char *v = json_string_value(json_object_get(it, "value"));
		if (t == NULL || v == NULL || n == 256)
			continue;
		if (strcmp(t, "sha256") == 0) {
			bool mail_itself = first_hash && row->file_name[0] == '\0';
			first_hash = false;
			if (mail_itself)
				continue;
		} else if (strcmp(t, "email") != 0 && strcmp(t, "url") != 0) {
			continue;
		}
		types[n] = t;
		values[n++] = v;
	}
	return db_report_group(x->in->db, row->id, types, values, n, ops_now(), incident, err);
}

int
ops_report_incident(struct ops_ctx *x, int64_t incident, struct db_report **out, size_t *n, struct bw_err *err)
{
	return db_incident_reports(x->in->db, incident, out, n, err);
}

/*
 * What partners told: every indicator of the result that a partner's feed
 * named makes the sample a threat, each a reason naming the feed and the
 * partner's indicator. *out: the result, amended when anything matched
 * (caller decrefs).
 */
static int
partners_knew(struct ops_ctx *x, const json_t *result, json_t **out, struct bw_err *err)
{
	const char *types[256], *values[256];
	struct db_feed_hit *hits = NULL;
	const json_t *it;
	size_t i, n = 0, nh = 0;
	int r;

	*out = json_deep_copy(result);
	if (*out == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	json_array_foreach(json_object_get(result, "indicators"), i, it) {
		const char *t = json_string_value(json_object_get(it, "type"));
		const char *v = json_string_value(json_object_get(it, "value"));
		if (t != NULL && v != NULL && n < 256 && strcmp(t, "yara") != 0) {
			types[n] = t;
			values[n++] = v;
		}
	}
	if ((r = db_feed_match(x->in->db, types, values, n, &hits, &nh, err)) != 0 || nh == 0) {
		free(hits);
		return r;
	}
	json_t *reasons = json_object_get(*out, "reasons");
	if (!json_is_array(reasons)) {
		reasons = json_array();
		json_object_set_new(*out, "reasons", reasons);
	}
	for (i = 0; i < nh && i < 32; i++) {
		char text[2400];
		snprintf(text, sizeof text, "the %s %.200s is a partner's indicator (feed %s, %s)", hits[i].type, hits[i].value,
			 hits[i].feed, hits[i].stix_id);
		json_array_append_new(reasons, json_pack("{s:s, s:s, s:s, s:i}", "code", "partner_indicator", "text", text,
							 "where", "", "weight", TRIAGE_THREAT_AT));
	}
	json_object_set_new(*out, "verdict", json_string("threat"));
	if (json_integer_value(json_object_get(*out, "score")) < TRIAGE_THREAT_AT)
		json_object_set_new(*out, "score", json_integer(TRIAGE_THREAT_AT));
	free(hits);
	return 0;
}

int
ops_report_triaged(struct ops_ctx *x, int64_t id, const json_t *given, struct bw_err *err)
{
	struct db_report row = { 0 };
	struct event ev;
	json_t *result = NULL;
	const char *verdict, *failed;
	int64_t score;
	char *text;
	int64_t incident = 0;
	int r;

	if ((r = partners_knew(x, given, &result, err)) != 0)
		return r;
	verdict = json_string_value(json_object_get(result, "verdict"));
	failed = json_string_value(json_object_get(result, "failed"));
	score = json_integer_value(json_object_get(result, "score"));
	text = json_dumps(result, JSON_COMPACT);

	r = ops_begin_tx(x, OP_REPORT_TRIAGED, &ev, err);
	ev_target(&ev, "report:%lld", (long long)id);
	if (r == 0 && (verdict == NULL || text == NULL))
		r = bw_err_set(err, BW_EINVAL, "a triage result without a verdict");
	if (r == 0)
		r = db_report_get(x->in->db, id, &row, err);
	if (r == 0) {
		ev_str(&ev, EVF_VERDICT, verdict);
		ev_int(&ev, EVF_SCORE, score);
		ev_str(&ev, EVF_SHA256, row.sha256);
		if (failed != NULL)
			ev_str(&ev, EVF_REASON, failed);
		r = db_report_set_triage(x->in->db, id, verdict, score, text, ops_now(), err);
	}
	if (r == 0 && (r = group(x, &row, result, &incident, err)) == 0)
		ev_int(&ev, EVF_INCIDENT, incident);
	free(text);
	db_report_clear(&row);
	if (r == 0 && strcmp(verdict, "threat") == 0)
		r = ops_finish_as(x, OP_REPORT_TRIAGED, &ev, EV_ALERT, err);
	else
		r = ops_finish(x, OP_REPORT_TRIAGED, &ev, r, err);
	json_decref(result);
	return r;
}

int
ops_report_feedback_to(struct ops_ctx *x, int64_t id, struct db_report *out, char email[DB_EMAIL_MAX + 1],
		       struct bw_err *err)
{
	int r;

	email[0] = '\0';
	if ((r = db_report_get(x->in->db, id, out, err)) != 0)
		return r;
	if (out->reporter[0] != '\0' && (r = db_user_email_get(x->in->db, out->reporter, email, err)) != 0)
		db_report_clear(out);
	return r;
}

static bool
one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

int
ops_report_update(struct ops_ctx *x, int64_t id, const struct ops_report_change *c, struct db_report *out,
		  struct bw_err *err)
{
	static const char *const statuses[] = { "in_review", "resolved", NULL };
	static const char *const verdicts[] = { "clean", "spam", "suspicious", "threat", NULL };
	static const char *const categories[] = { "phishing", "malware", "spam", "scam", "legitimate", "test", "other",
						   NULL };
	struct db_report cur = { 0 };
	struct db_user u = { 0 };
	struct event ev;
	int r;

	memset(out, 0, sizeof *out);
	r = ops_begin_tx(x, OP_REPORT_UPDATE, &ev, err);
	ev_target(&ev, "report:%lld", (long long)id);
	if (c->status)
		ev_str(&ev, EVF_STATE, c->status);
	if (c->verdict)
		ev_str(&ev, EVF_VERDICT, c->verdict);
	if (c->category)
		ev_str(&ev, EVF_CATEGORY, c->category);
	if (c->assignee)
		ev_str(&ev, EVF_ASSIGNEE, c->assignee);
	if (c->reason)
		ev_str(&ev, EVF_REASON, c->reason);
	if (r == 0 && c->status == NULL && c->verdict == NULL && c->category == NULL && c->assignee == NULL)
		r = bw_err_set(err, BW_EINVAL, "nothing to change: give a status, verdict, category or assignee");
	if (r == 0 && (c->reason == NULL || c->reason[0] == '\0' || !ops_text_ok(c->reason, 1024, true)))
		r = bw_err_set(err, BW_EINVAL, "a change needs a reason (UTF-8 text, at most 1024 bytes)");
	if (r == 0 && c->status != NULL && !one_of(c->status, statuses))
		r = bw_err_set(err, BW_EINVAL, "status must be in_review or resolved");
	if (r == 0 && c->verdict != NULL && !one_of(c->verdict, verdicts))
		r = bw_err_set(err, BW_EINVAL, "verdict must be clean, spam, suspicious or threat");
	if (r == 0 && c->category != NULL && !one_of(c->category, categories))
		r = bw_err_set(err, BW_EINVAL, "category must be phishing, malware, spam, scam, legitimate, test or other");
	if (r == 0 && c->assignee != NULL && c->assignee[0] != '\0') {
		if ((r = db_user_by_name(x->in->db, c->assignee, &u, err)) == 0 &&
		    (u.disabled || !(u.roles & (ROLE_ANALYST | ROLE_ADMIN))))
			r = bw_err_set(err, BW_EINVAL, "%.64s is not an enabled analyst or admin", c->assignee);
		db_user_clear(&u);
	}
	if (r == 0)
		r = db_report_get(x->in->db, id, &cur, err);
	if (r == 0 && c->status != NULL && strcmp(c->status, cur.status) == 0)
		r = bw_err_set(err, BW_EEXIST, "report %lld is %s already", (long long)id, cur.status);
	if (r == 0 && c->status != NULL && strcmp(c->status, "resolved") == 0 && c->verdict == NULL &&
	    cur.analyst_verdict[0] == '\0' && (strcmp(cur.verdict, "pending") == 0 || strcmp(cur.verdict, "failed") == 0))
		r = bw_err_set(err, BW_EINVAL, "triage gave no verdict (%s): resolving needs the analyst's verdict",
			       cur.verdict);
	db_report_clear(&cur);
	if (r == 0)
		r = db_report_update(x->in->db, id, c->status, c->verdict, c->category, c->assignee, x->caller->name,
				     c->reason, ops_now(), err);
	if (r == 0)
		r = db_report_get(x->in->db, id, out, err);
	return ops_finish(x, OP_REPORT_UPDATE, &ev, r, err);
}

int
ops_report_comment(struct ops_ctx *x, int64_t id, const char *text, struct bw_err *err)
{
	struct event ev;
	int r;

	r = ops_begin_tx(x, OP_REPORT_COMMENT, &ev, err);
	ev_target(&ev, "report:%lld", (long long)id);
	if (r == 0 && (text == NULL || text[0] == '\0' || !ops_text_ok(text, 1024, true)))
		r = bw_err_set(err, BW_EINVAL, "a comment is UTF-8 text of 1 to 1024 bytes");
	if (r == 0) {
		ev_str(&ev, EVF_COMMENT, text);
		r = db_report_comment(x->in->db, id, x->caller->name, text, ops_now(), err);
	}
	return ops_finish(x, OP_REPORT_COMMENT, &ev, r, err);
}

int
ops_report_history(struct ops_ctx *x, int64_t id, struct db_report_step **out, size_t *n, struct bw_err *err)
{
	return db_report_history(x->in->db, id, out, n, err);
}

/* The member name a sample gets in its archive: the base of its file name, printable, else report-ID.eml/.bin. */
static void
member_name(const struct db_report *r, char *out, size_t cap)
{
	const char *base = strrchr(r->file_name, '/') ? strrchr(r->file_name, '/') + 1 : r->file_name;
	size_t i, o = 0;

	for (i = 0; base[i] != '\0' && o + 1 < cap; i++)
		out[o++] = (unsigned char)base[i] < 0x20 || base[i] == '\\' || base[i] == 0x7f ? '_' : base[i];
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		snprintf(out, cap, "report-%lld.%s", (long long)r->id, r->file_name[0] ? "bin" : "eml");
}

int
ops_report_download(struct ops_ctx *x, int64_t id, uint8_t **zip, size_t *len, char name[300], struct bw_err *err)
{
	struct db_report row = { 0 };
	struct event ev;
	char member[264];
	uint8_t *data = NULL;
	size_t dlen = 0;
	int r;

	*zip = NULL;
	*len = 0;
	r = ops_begin(x, OP_REPORT_DOWNLOAD, &ev, err);
	ev_target(&ev, "report:%lld", (long long)id);
	if (r == 0 && (r = db_report_get(x->in->db, id, &row, err)) == 0 && row.sample_purged_at != 0)
		r = bw_err_set(err, BW_EGONE, "the sample of report %lld was deleted after the retention period (its triage "
			       "stays)", (long long)id);
	if (r == 0) {
		ev_str(&ev, EVF_SHA256, row.sha256);
		r = sample_open(x->in, &row, &data, &dlen, err);
		member_name(&row, member, sizeof member);
		snprintf(name, 300, "report-%lld.zip", (long long)id);
		if (r == 0)
			r = triage_zip_sample(member, data, dlen, OPS_REPORT_ZIP_PASSWORD, zip, len, err);
	}
	if (data != NULL)
		bw_memzero(data, dlen);
	free(data);
	db_report_clear(&row);
	return ops_finish(x, OP_REPORT_DOWNLOAD, &ev, r, err);
}

/* The indicators of a report's triage, appended to all (deduplicated). */
static void
gather(const struct db_report *r, json_t *all)
{
	json_t *t = r->triage != NULL ? json_loads(r->triage, 0, NULL) : NULL, *it, *have;
	size_t i, k;

	json_array_foreach(json_object_get(t, "indicators"), i, it) {
		bool dup = false;
		json_array_foreach(all, k, have)
			if (json_equal(have, it))
				dup = true;
		if (!dup)
			json_array_append(all, it);
	}
	json_decref(t);
}

static int export_lure(struct ops_ctx *x, int64_t id, const char *tlp, bool misp, json_t **out, struct bw_err *err);

/*
 * Each YARA match's rule text, to share (pattern_type yara): bulwark's
 * rules, and the organisation's marked share = true, when a rule compiles
 * on its own; the others stay home (the match alone is no indicator).
 */
static void
yara_sources(struct ops_ctx *x, json_t *all)
{
	json_t *it;
	size_t i;

	json_array_foreach(all, i, it) {
		const char *t = json_string_value(json_object_get(it, "type"));
		struct bw_err err = { 0 };
		char *text = NULL;
		if (t == NULL || strcmp(t, "yara") != 0)
			continue;
		if (triage_yara_rule_text(x->env != NULL ? x->env->yara_dir : NULL,
					  json_string_value(json_object_get(it, "value")), &text, &err) == 0) {
			json_t *copy = json_deep_copy(it);
			json_object_set_new(copy, "rule", json_string(text));
			json_array_set_new(all, i, copy);
		}
		free(text);
	}
}

int
ops_report_stix(struct ops_ctx *x, int64_t id, const char *tlp, json_t **out, struct bw_err *err)
{
	return export_lure(x, id, tlp, false, out, err);
}

int
ops_report_misp(struct ops_ctx *x, int64_t id, const char *tlp, json_t **out, struct bw_err *err)
{
	return export_lure(x, id, tlp, true, out, err);
}

int
ops_lure_export(struct ops_ctx *x, int64_t id, const char *tlp, bool misp, int64_t *incident, json_t **out,
		struct bw_err *err)
{
	struct db_report row = { 0 }, *rs = NULL;
	struct share_lure l = { 0 };
	json_t *all = json_array();
	size_t n = 0, i;
	int r = 0;

	*out = NULL;
	*incident = 0;
	if (!share_tlp_valid(tlp))
		r = bw_err_set(err, BW_EINVAL, "tlp must be clear, green, amber, amber+strict or red");
	if (r == 0 && (r = db_report_get(x->in->db, id, &row, err)) == 0 &&
	    (strcmp(row.status, "resolved") != 0 ||
	     (strcmp(db_report_verdict(&row), "threat") != 0 && strcmp(db_report_verdict(&row), "suspicious") != 0)))
		r = bw_err_set(err, BW_ECONFLICT, "only a report resolved as a threat or suspicious is shared (this one is %s, "
			       "%s)", row.status, db_report_verdict(&row));
	if (r == 0 && row.incident_id != 0)
		r = db_incident_reports(x->in->db, row.incident_id, &rs, &n, err);
	if (r == 0) {
		*incident = row.incident_id;
		gather(&row, all);
		for (i = 0; i < n; i++)
			gather(&rs[i], all);
		yara_sources(x, all);
		l.report_id = id;
		l.created = row.created_at;
		l.verdict = db_report_verdict(&row);
		l.category = row.category;
		l.indicators = all;
		l.org_domains = x->env != NULL ? x->env->org_domains : NULL;
		l.norg = x->env != NULL ? x->env->norg_domains : 0;
		l.producer = instance_log_verifier(x->in)->name;
		r = misp ? share_misp_event(&l, tlp, ops_now(), out, err) : share_stix_bundle(&l, tlp, ops_now(), out, err);
	}
	json_decref(all);
	db_reports_free(rs, n);
	db_report_clear(&row);
	return r;
}

/* A resolved report's lure as STIX (misp false) or MISP: one operation, report.export. */
static int
export_lure(struct ops_ctx *x, int64_t id, const char *tlp, bool misp, json_t **out, struct bw_err *err)
{
	struct event ev;
	json_t *o;
	int64_t incident = 0;
	size_t i, count = 0;
	int r;

	*out = NULL;
	r = ops_begin(x, OP_REPORT_EXPORT, &ev, err);
	ev_target(&ev, "report:%lld", (long long)id);
	if (tlp != NULL)
		ev_str(&ev, EVF_TLP, tlp);
	if (r == 0 && (r = ops_lure_export(x, id, tlp, misp, &incident, out, err)) == 0) {
		ev_int(&ev, EVF_INCIDENT, incident);
		if (misp)
			count = json_array_size(json_object_get(json_object_get(*out, "Event"), "Attribute"));
		else
			json_array_foreach(json_object_get(*out, "objects"), i, o)
				count += strcmp(json_string_value(json_object_get(o, "type")), "indicator") == 0;
		ev_int(&ev, EVF_COUNT, (int64_t)count);
	}
	r = ops_finish(x, OP_REPORT_EXPORT, &ev, r, err);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

int
ops_report_purge(struct ops_ctx *x, int64_t before, size_t *count, struct bw_err *err)
{
	struct event ev;
	int64_t *ids = NULL;
	size_t n = 0, i;
	char path[4200];
	int r;

	*count = 0;
	if ((r = db_reports_samples_before(x->in->db, before, 1000, &ids, &n, err)) != 0 || n == 0) {
		free(ids);
		return r;	/* nothing to delete: nothing recorded */
	}
	r = ops_begin(x, OP_REPORT_PURGE, &ev, err);
	ev_target(&ev, "report:samples");
	for (i = 0; r == 0 && i < n; i++) {
		if ((r = sample_path(x->in, ids[i], path, sizeof path, err)) != 0)
			break;
		if (unlink(path) != 0 && errno != ENOENT) {
			r = bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
			break;
		}
		if ((r = db_report_sample_purged(x->in->db, ids[i], ops_now(), err)) == 0)
			(*count)++;
	}
	ev_int(&ev, EVF_COUNT, (int64_t)*count);
	free(ids);
	return ops_finish(x, OP_REPORT_PURGE, &ev, r, err);
}
