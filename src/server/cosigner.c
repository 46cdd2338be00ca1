/*
 * server/cosigner.c: the audit log asks its witnesses (c2sp.org/tlog-witness)
 * to cosign its checkpoint. Every interval (default 10 s, not on every
 * integration, so public witnesses' rate limits hold) the latest checkpoint
 * goes to each witness of the policy that has a URL, in parallel, with the
 * consistency proof from the size that witness cosigned last (learnt from
 * its first 409, as Tessera does). The cosignatures that come back and
 * verify are kept per witness; when those over the one checkpoint meet the
 * policy's quorum, that checkpoint with them becomes the published one
 * (LOG/checkpoint.cosigned, GET /log/checkpoint, the tlog-proof files).
 *
 * A witness that is slow, down, rate-limiting (429) or does not know the
 * log (403/404) is backed off (the interval doubling, up to 10 minutes) and
 * counted; it never blocks the log's appends, which do not wait for this
 * thread. A witness that holds another tree (409 without a size, 422) or
 * more than the log has (a 409 size past it) is an alarm: log.witness_alarm
 * once, and back-off up to an hour, never a blind retry. An unchanged
 * checkpoint a witness already cosigned is sent again after 10 minutes (a
 * fresh timestamp), not every interval.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "witness/witness.h"

#define RESEND_UNCHANGED_MS (10 * 60 * 1000)
#define BACKOFF_MAX_MS (10 * 60 * 1000)
#define ALARM_BACKOFF_MAX_MS (60 * 60 * 1000)
#define ANSWER_MAX 65536

struct cw {
	const char *name, *url;		/* borrowed from the policy */
	const struct note_verifier *key;
	bool known;			/* known_size came from this witness (a 409 or a cosignature) */
	uint64_t known_size;
	int64_t next_ms, backoff_ms;	/* not asked before next_ms */
	bool asked, alarmed;
	enum witness_answer_kind last;
	char why[200];
	int64_t last_ms;
	uint8_t cosig_for[32];		/* SHA-256 of the checkpoint note cosig covers */
	struct bw_buf cosig;		/* its latest valid cosignature line(s) */
	uint64_t cosigned_size;
	int64_t cosigned_ms;
	uint64_t n[7];			/* answers by kind */
	/* this round */
	CURL *c;
	struct bw_buf body;
	char *answer;
	size_t alen;
	bool over, retried;
};

struct cosigner {
	struct instance *in;
	struct audit_log *al;
	const struct witness_policy *policy;
	struct cw w[WITNESS_POLICY_MAX];
	size_t n;
	int64_t interval_ms, timeout_ms;
	const char *cacert;
	pthread_t thread;
	bool started, stop;
	pthread_mutex_t mu;		/* guards what status and published read */
	pthread_cond_t cv;
	char *published;
	size_t published_len;
	uint64_t published_size, latest_size, rounds;
	int64_t published_ms;
	char quorum[400];		/* the last round's verdict */
};

static size_t
collect(char *p, size_t sz, size_t nm, void *ctx)
{
	struct cw *w = ctx;
	size_t k = sz * nm;
	char *grown;

	if (w->alen + k + 1 > ANSWER_MAX || (grown = realloc(w->answer, w->alen + k + 1)) == NULL) {
		w->over = true;
		return 0;
	}
	w->answer = grown;
	memcpy(w->answer + w->alen, p, k);
	w->alen += k;
	w->answer[w->alen] = '\0';
	return k;
}

/* A transfer of w->body to the witness's add-checkpoint, added to m. */
static int
start_transfer(struct cosigner *cs, CURLM *m, struct cw *w)
{
	char url[2100];

	free(w->answer);
	w->answer = NULL;
	w->alen = 0;
	w->over = false;
	if ((size_t)snprintf(url, sizeof url, "%s/add-checkpoint", w->url) >= sizeof url || (w->c = curl_easy_init()) == NULL)
		return BW_ENOMEM;
	curl_easy_setopt(w->c, CURLOPT_URL, url);
	curl_easy_setopt(w->c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(w->c, CURLOPT_POSTFIELDS, (const char *)w->body.data);
	curl_easy_setopt(w->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)w->body.len);
	curl_easy_setopt(w->c, CURLOPT_TIMEOUT_MS, (long)cs->timeout_ms);
	curl_easy_setopt(w->c, CURLOPT_CONNECTTIMEOUT_MS, (long)cs->timeout_ms);
	curl_easy_setopt(w->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(w->c, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(w->c, CURLOPT_PRIVATE, w);
	if (cs->cacert != NULL)
		curl_easy_setopt(w->c, CURLOPT_CAINFO, cs->cacert);
	if (curl_multi_add_handle(m, w->c) != CURLM_OK) {
		curl_easy_cleanup(w->c);
		w->c = NULL;
		return BW_EIO;
	}
	return 0;
}

static void
back_off(struct cw *w, int64_t now, int64_t first, int64_t max)
{
	w->backoff_ms = w->backoff_ms < first ? first : w->backoff_ms * 2 > max ? max : w->backoff_ms * 2;
	w->next_ms = now + w->backoff_ms;
}

/* The witness answered (status 0: not at all): its state, under cs->mu. Returns true to send again at once. */
static bool
take_answer(struct cosigner *cs, struct cw *w, long status, const uint8_t *note, size_t len,
	    const struct tlog_checkpoint *cp, const uint8_t hash[32], bool *alarm)
{
	struct witness_answer a;
	struct bw_buf cosig = { 0 };
	int64_t now = bw_now_ms();

	witness_answer_read(status, w->answer ? w->answer : "", w->alen, note, len, cp->size, w->key, &a, &cosig);
	if (status != 0 && w->over) {
		a.kind = WITNESS_FAILED;
		snprintf(a.why, sizeof a.why, "the answer is longer than %d bytes", ANSWER_MAX);
	}
	w->asked = true;
	w->last = a.kind;
	w->last_ms = now;
	w->n[a.kind]++;
	snprintf(w->why, sizeof w->why, "%s", a.kind == WITNESS_COSIGNED ? "cosigned" : a.why);
	*alarm = false;
	switch (a.kind) {
	case WITNESS_COSIGNED:
		bw_buf_free(&w->cosig);
		w->cosig = cosig;
		memcpy(w->cosig_for, hash, 32);
		w->cosigned_size = cp->size;
		w->cosigned_ms = now;
		w->known = true;
		w->known_size = cp->size;
		w->backoff_ms = 0;
		w->next_ms = 0;
		w->alarmed = false;
		return false;
	case WITNESS_STALE:
		bw_buf_free(&cosig);
		w->known = true;
		w->known_size = a.size;
		if (!w->retried)
			return true;
		back_off(w, now, cs->interval_ms, BACKOFF_MAX_MS);
		return false;
	case WITNESS_CONFLICT:
	case WITNESS_ROLLBACK:
		*alarm = !w->alarmed;
		w->alarmed = true;
		w->known = false;	/* learn its size again before the next try */
		back_off(w, now, 60 * 1000, ALARM_BACKOFF_MAX_MS);
		break;
	case WITNESS_REFUSED:
		back_off(w, now, 60 * 1000, BACKOFF_MAX_MS);
		break;
	default:
		w->known = false;
		back_off(w, now, cs->interval_ms, BACKOFF_MAX_MS);
		break;
	}
	bw_buf_free(&cosig);
	return false;
}

/* The checkpoint with the cosignatures over it; published when they meet the quorum. */
static void
publish(struct cosigner *cs, const uint8_t *note, size_t len, const struct tlog_checkpoint *cp, const uint8_t hash[32])
{
	struct bw_buf full = { 0 };
	struct note *n = NULL;
	struct bw_err err = { 0 };
	char why[300] = "out of memory";
	size_t i;
	bool met = false;

	pthread_mutex_lock(&cs->mu);
	if (bw_buf_append(&full, note, len) == 0) {
		for (i = 0; i < cs->n; i++)
			if (cs->w[i].cosig.len > 0 && memcmp(cs->w[i].cosig_for, hash, 32) == 0)
				bw_buf_append(&full, cs->w[i].cosig.data, cs->w[i].cosig.len);
		if (note_parse(full.data, full.len, &n, &err) != 0)
			snprintf(why, sizeof why, "%.250s", err.msg);
		else
			met = witness_policy_check_quorum(cs->policy, n, cp->origin, why, sizeof why) == 0;	/* our own checkpoint */
	}
	snprintf(cs->quorum, sizeof cs->quorum, "size %llu: %s", (unsigned long long)cp->size, why);
	cs->latest_size = cp->size;
	cs->rounds++;
	pthread_mutex_unlock(&cs->mu);
	if (met && (cs->published == NULL || cs->published_len != full.len ||
		    memcmp(cs->published, full.data, full.len) != 0)) {
		/* durable first: a proof handed out under it must find it after a restart */
		if (tlog_cosigned_save(cs->in->log_dir, full.data, full.len, &err) != 0) {
			EV_LOG(EVLOG_ERROR, "cosigned checkpoint not saved", EV_KS("error", err.msg));
		} else {
			char *text;
			size_t tl;
			pthread_mutex_lock(&cs->mu);
			free(cs->published);
			text = bw_buf_take(&full, &tl);
			cs->published = text;
			cs->published_len = text != NULL ? tl : 0;
			cs->published_size = cp->size;
			cs->published_ms = bw_now_ms();
			pthread_mutex_unlock(&cs->mu);
		}
	}
	note_free(n);
	bw_buf_free(&full);
}

/* One round: the latest checkpoint to every witness due, in parallel, within the timeout. */
static void
round_once(struct cosigner *cs)
{
	struct tlog_checkpoint cp = { 0 };
	struct tlog_tiles *t = NULL;
	struct bw_sha256 *h = NULL;
	struct bw_err err = { 0 };
	struct note_verifier *v = instance_log_verifier(cs->in);
	uint8_t hash[32];
	size_t len = 0, i;
	char *note = audit_log_checkpoint(cs->al, &len);
	CURLM *m = NULL;
	int64_t now = bw_now_ms();
	int running = 0;

	if (note == NULL || tlog_checkpoint_open((const uint8_t *)note, len, &v, 1, &cp, &err) != 0 ||
	    tlog_tiles_open(cs->in->log_dir, &t, &err) != 0 || bw_sha256_new(&h, &err) != 0 ||
	    (m = curl_multi_init()) == NULL) {
		EV_LOG(EVLOG_ERROR, "witnessing: the checkpoint could not be read", EV_KS("error", err.msg));
		goto out;
	}
	bw_sha256_digest(h, note, len, hash);
	for (i = 0; i < cs->n; i++) {
		struct cw *w = &cs->w[i];
		bool fresh;
		w->retried = false;
		w->c = NULL;
		if (w->url == NULL || now < w->next_ms)
			continue;
		pthread_mutex_lock(&cs->mu);
		fresh = w->cosig.len > 0 && memcmp(w->cosig_for, hash, 32) == 0 && now - w->cosigned_ms < RESEND_UNCHANGED_MS;
		pthread_mutex_unlock(&cs->mu);
		if (fresh)
			continue;
		if (witness_submission_format(h, t, w->known && w->known_size <= cp.size ? w->known_size : 0, cp.size,
					      (const uint8_t *)note, len, &w->body, &err) != 0 ||
		    start_transfer(cs, m, w) != 0) {
			EV_LOG(EVLOG_ERROR, "witnessing: a request could not be made", EV_KS("witness", w->name),
			       EV_KS("error", err.msg[0] ? err.msg : "out of memory"));
			bw_err_clear(&err);
		}
	}
	do {
		CURLMsg *msg;
		int left;
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct cw *w = NULL;
			long status = 0;
			bool again, alarm = false;
			CURLcode result;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&w);
			result = msg->data.result;	/* msg is gone once the handle is removed */
			if (result == CURLE_OK)
				curl_easy_getinfo(w->c, CURLINFO_RESPONSE_CODE, &status);
			else if (!w->over) {
				free(w->answer);
				w->answer = NULL;
				w->alen = 0;
			}
			curl_multi_remove_handle(m, w->c);
			curl_easy_cleanup(w->c);
			w->c = NULL;
			pthread_mutex_lock(&cs->mu);
			again = take_answer(cs, w, result == CURLE_OK ? status : 0, (const uint8_t *)note, len, &cp, hash, &alarm);
			if (result != CURLE_OK && !w->over)
				snprintf(w->why, sizeof w->why, "no answer: %s", curl_easy_strerror(result));
			pthread_mutex_unlock(&cs->mu);
			if (alarm) {
				struct ops_caller sys;
				struct ops_ctx x = { .in = cs->in, .al = cs->al, .caller = &sys };
				ops_caller_system(&sys);
				EV_LOG(EVLOG_ERROR, "a witness of this log holds another history", EV_KS("witness", w->name),
				       EV_KS("reason", w->why));
				if (ops_log_witness_alarm(&x, w->name, w->why, &err) != 0) {
					EV_LOG(EVLOG_ERROR, "log.witness_alarm not recorded", EV_KS("error", err.msg));
					bw_err_clear(&err);
				}
			}
			if (again) {
				w->retried = true;
				if (witness_submission_format(h, t, w->known_size, cp.size, (const uint8_t *)note, len, &w->body,
							      &err) != 0 ||
				    start_transfer(cs, m, w) != 0) {
					EV_LOG(EVLOG_ERROR, "witnessing: a request could not be made", EV_KS("witness", w->name),
					       EV_KS("error", err.msg[0] ? err.msg : "out of memory"));
					bw_err_clear(&err);
				} else {
					running++;
				}
			}
		}
		if (running > 0 && curl_multi_poll(m, NULL, 0, 200, NULL) != CURLM_OK)
			break;
	} while (running > 0);
	publish(cs, (const uint8_t *)note, len, &cp, hash);
out:
	for (i = 0; i < cs->n; i++) {
		if (cs->w[i].c != NULL) {
			curl_multi_remove_handle(m, cs->w[i].c);
			curl_easy_cleanup(cs->w[i].c);
			cs->w[i].c = NULL;
		}
		free(cs->w[i].answer);
		cs->w[i].answer = NULL;
		cs->w[i].alen = 0;
	}
	if (m != NULL)
		curl_multi_cleanup(m);
	free(note);
	tlog_checkpoint_clear(&cp);
	tlog_tiles_free(t);
	bw_sha256_free(h);
}

static void *
cosigner_main(void *arg)
{
	struct cosigner *cs = arg;

	/* The first round after one interval too: the server's start events are in the checkpoint it sends. */
	pthread_mutex_lock(&cs->mu);
	while (!cs->stop) {
		struct timespec until = bw_deadline_ms(cs->interval_ms);
		int64_t at = bw_now_ms() + cs->interval_ms;
		while (!cs->stop && bw_now_ms() < at)
			pthread_cond_timedwait(&cs->cv, &cs->mu, &until);
		if (cs->stop)
			break;
		pthread_mutex_unlock(&cs->mu);
		round_once(cs);
		pthread_mutex_lock(&cs->mu);
	}
	pthread_mutex_unlock(&cs->mu);
	return NULL;
}

/*
 * Does the policy's log key name this log: its key now, or an earlier one
 * whose transitions lead to it (a policy pinned before a key rotation, as
 * verifiers pinned it, stays valid)?
 */
static bool
policy_names_log(struct instance *in, const struct note_verifier *pk)
{
	const struct note_verifier *v = instance_log_verifier(in);
	struct note_verifier *copy = NULL;
	struct tlog_keychain c;
	struct bw_err err = { 0 };
	char *text = NULL;
	bool yes;

	if (pk->alg == v->alg && memcmp(pk->pk, v->pk, sizeof pk->pk) == 0)
		return true;
	if (note_verifier_format(pk, &text, &err) != 0 || note_verifier_parse(text, strlen(text), &copy, &err) != 0) {
		free(text);
		return false;
	}
	free(text);
	if (tlog_keychain_load(in->log_dir, copy, ev_log_key_transition_key, NULL, &c, NULL, &err) != 0)
		return false;
	yes = memcmp(c.key[c.n - 1]->pk, v->pk, sizeof v->pk) == 0;
	tlog_keychain_clear(&c);
	return yes;
}

int
cosigner_start(struct instance *in, struct audit_log *al, const struct server_opts *o, struct cosigner **out,
	       struct bw_err *err)
{
	struct cosigner *cs;
	struct note_verifier *v = instance_log_verifier(in);
	const struct note_verifier *pk;
	struct tlog_checkpoint cp = { 0 };
	uint8_t *note = NULL;
	size_t len = 0, i;

	*out = NULL;
	if ((pk = witness_policy_log(o->witness_policy, v->name)) == NULL || !policy_names_log(in, pk))
		return bw_err_set(err, BW_EINVAL, "the witness policy must name this server's log: log %s (or an earlier key "
				  "of it, which its key transitions lead from)", instance_log_vkey(in));
	if ((cs = calloc(1, sizeof *cs)) == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	cs->in = in;
	cs->al = al;
	cs->policy = o->witness_policy;
	cs->interval_ms = o->witness_interval_ms > 0 ? o->witness_interval_ms : 10000;
	cs->timeout_ms = o->witness_timeout_ms > 0 ? o->witness_timeout_ms : 5000;
	cs->cacert = o->witness_cacert;
	cs->n = witness_policy_witnesses(cs->policy);
	for (i = 0; i < cs->n; i++)
		witness_policy_witness(cs->policy, i, &cs->w[i].name, &cs->w[i].key, &cs->w[i].url);
	pthread_mutex_init(&cs->mu, NULL);
	pthread_cond_init(&cs->cv, NULL);
	snprintf(cs->quorum, sizeof cs->quorum, "no round yet");
	/* What was published before a restart stays published until a round does better. */
	if (tlog_cosigned_load(in->log_dir, &v, 1, &note, &len, &cp, err) == 0) {
		cs->published = (char *)note;
		cs->published_len = len;
		cs->published_size = cp.size;
	} else if (err->code != BW_ENOTFOUND) {
		EV_LOG(EVLOG_WARN, "the cosigned checkpoint kept before is not used", EV_KS("error", err->msg));
	}
	bw_err_clear(err);
	tlog_checkpoint_clear(&cp);
	if (pthread_create(&cs->thread, NULL, cosigner_main, cs) != 0) {
		cosigner_stop(cs);
		return bw_err_set(err, BW_EIO, "cannot start the witnessing thread");
	}
	cs->started = true;
	*out = cs;
	return 0;
}

void
cosigner_stop(struct cosigner *cs)
{
	size_t i;

	if (cs == NULL)
		return;
	if (cs->started) {
		pthread_mutex_lock(&cs->mu);
		cs->stop = true;
		pthread_cond_signal(&cs->cv);
		pthread_mutex_unlock(&cs->mu);
		pthread_join(cs->thread, NULL);
	}
	for (i = 0; i < cs->n; i++) {
		bw_buf_free(&cs->w[i].cosig);
		bw_buf_free(&cs->w[i].body);
		free(cs->w[i].answer);
	}
	free(cs->published);
	pthread_mutex_destroy(&cs->mu);
	pthread_cond_destroy(&cs->cv);
	free(cs);
}

char *
cosigner_published(struct cosigner *cs, size_t *len)
{
	char *copy = NULL;

	pthread_mutex_lock(&cs->mu);
	if (cs->published != NULL && (copy = malloc(cs->published_len + 1)) != NULL) {
		memcpy(copy, cs->published, cs->published_len);
		copy[cs->published_len] = '\0';
		*len = cs->published_len;
	}
	pthread_mutex_unlock(&cs->mu);
	return copy;
}

json_t *
cosigner_status(struct cosigner *cs)
{
	json_t *o, *arr = json_array();
	size_t i;
	char at[BW_TIME_TEXT_MAX];

	pthread_mutex_lock(&cs->mu);
	for (i = 0; arr != NULL && i < cs->n; i++) {
		const struct cw *w = &cs->w[i];
		json_t *c = json_pack("{s:s, s:s?, s:s, s:I, s:I, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "name",
				      w->name, "url", w->url, "last", w->asked ? witness_answer_name(w->last) : "not asked",
				      "cosigned_size", (json_int_t)w->cosigned_size, "backoff_ms", (json_int_t)w->backoff_ms,
				      "why", w->url == NULL ? "no URL in the policy: not asked" : w->asked ? w->why : "",
				      "answers", "cosigned", (json_int_t)w->n[WITNESS_COSIGNED], "stale",
				      (json_int_t)w->n[WITNESS_STALE], "conflict", (json_int_t)w->n[WITNESS_CONFLICT],
				      "rollback", (json_int_t)w->n[WITNESS_ROLLBACK], "refused", (json_int_t)w->n[WITNESS_REFUSED],
				      "busy", (json_int_t)w->n[WITNESS_BUSY], "failed", (json_int_t)w->n[WITNESS_FAILED]);
		if (c != NULL && w->cosigned_ms > 0) {
			bw_time_format_ms(w->cosigned_ms, at);
			json_object_set_new(c, "cosigned_at", json_string(at));
		}
		json_array_append_new(arr, c);
	}
	o = json_pack("{s:I, s:I, s:I, s:s, s:I, s:o}", "published_size", (json_int_t)cs->published_size, "latest_size",
		      (json_int_t)cs->latest_size, "rounds", (json_int_t)cs->rounds, "quorum", cs->quorum, "interval_ms",
		      (json_int_t)cs->interval_ms, "witnesses", arr);
	pthread_mutex_unlock(&cs->mu);
	return o;
}
