/*
 * server/feeds.c: partners' TAXII 2.1 collections pulled on their schedule
 * (and at once on request): pages of indicators added after the last one
 * seen, read by share_taxii_envelope_read, their values stored for triage.
 * A page that cannot be fetched or read ends the pull with the error noted
 * (feed.pull); what the pages before it gave is kept with the cursor after
 * them, so the next pull goes on from there.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "share/share.h"

#define FEED_PAGE_LIMIT 500		/* objects asked per page */
#define FEED_PAGES_MAX 200		/* pages per pull */
#define FEED_BODY_MAX ((size_t)32 << 20)
#define FEED_VALUES_MAX 200000		/* values per pull */
#define FEED_TIMEOUT_SECS 30
#define FEED_TICK_SECS 5

struct feeder {
	struct instance *in;
	struct audit_log *al;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, started;
	atomic_bool cancel;		/* set at stop: a pull in progress ends at once */
};

struct page {
	struct bw_buf body;
	bool too_large;
	char added_last[SHARE_TAXII_TIME_MAX + 8];
	char content_type[128];
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct page *p = arg;

	if (p->body.len + size * n > FEED_BODY_MAX) {
		p->too_large = true;
		return 0;
	}
	return bw_buf_append(&p->body, data, size * n) == 0 ? size * n : 0;
}

/* Keeps X-TAXII-Date-Added-Last and Content-Type (bounded; a header longer than the field is ignored). */
static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct page *p = arg;
	size_t len = size * n, k;
	static const char *const names[] = { "X-TAXII-Date-Added-Last:", "Content-Type:" };
	char *fields[] = { p->added_last, p->content_type };
	size_t caps[] = { sizeof p->added_last, sizeof p->content_type };

	for (k = 0; k < 2; k++) {
		size_t nl = strlen(names[k]);
		if (len > nl && strncasecmp(data, names[k], nl) == 0) {
			const char *v = data + nl;
			size_t vl = len - nl;
			while (vl > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vl--;
			}
			while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
				vl--;
			if (vl < caps[k])
				snprintf(fields[k], caps[k], "%.*s", (int)vl, v);
		}
	}
	return len;
}

/* libcurl's progress callback: non-zero aborts the transfer (the server is stopping). */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return arg != NULL && atomic_load((atomic_bool *)arg) ? 1 : 0;
}

/* GETs one page of src's objects into p; 0 or an error naming what went wrong. */
static int
fetch(CURL *c, const struct ops_feed_source *src, const char *after, const char *next, atomic_bool *cancel,
      struct page *p, struct bw_err *err)
{
	char url[2048], auth[480], *ea = NULL, *en = NULL;
	struct curl_slist *h = NULL;
	long status = 0;
	CURLcode cc;

	memset(p, 0, sizeof *p);
	if (after[0] != '\0')
		ea = curl_easy_escape(c, after, 0);
	if (next != NULL)
		en = curl_easy_escape(c, next, 0);
	snprintf(url, sizeof url, "%sobjects/?match%%5Btype%%5D=indicator&limit=%d%s%s%s%s", src->url, FEED_PAGE_LIMIT,
		 ea != NULL ? "&added_after=" : "", ea != NULL ? ea : "", en != NULL ? "&next=" : "", en != NULL ? en : "");
	curl_free(ea);
	curl_free(en);
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", src->token);
	h = curl_slist_append(h, "Accept: application/taxii+json;version=2.1");
	h = curl_slist_append(h, auth);
	bw_memzero(auth, sizeof auth);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FEED_TIMEOUT_SECS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, p);
	if (src->cacert[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, src->cacert);
	if (cancel != NULL) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, cancel);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
	cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	if (cc != CURLE_OK)
		return bw_err_set(err, BW_EIO, "%s", p->too_large ? "a page larger than 32 MiB" : curl_easy_strerror(cc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return bw_err_set(err, BW_EIO, "HTTP %ld from the partner's server", status);
	if (strncasecmp(p->content_type, "application/taxii+json", 22) != 0)
		return bw_err_set(err, BW_EINVAL, "the answer is %.60s, not application/taxii+json",
				  p->content_type[0] ? p->content_type : "untyped");
	return 0;
}

/* feeds_pull, stopped at once when *cancel is set (NULL: never). */
static int
pull(struct instance *in, struct audit_log *al, const struct ops_caller *caller, const char *name, atomic_bool *cancel,
     struct feed_pull_result *res, struct bw_err *err)
{
	struct ops_ctx x = { .in = in, .al = al, .caller = caller };
	struct ops_feed_source src;
	struct share_feed_value *all = NULL;
	struct bw_err perr = { 0 };
	char cursor[SHARE_TAXII_TIME_MAX + 8], next[256] = "";
	size_t nall = 0, pages;
	int64_t us;
	CURL *c = NULL;
	int r;

	memset(res, 0, sizeof *res);
	if ((r = ops_feed_source(&x, name, &src, err)) != 0)
		return r;
	snprintf(cursor, sizeof cursor, "%s", src.cursor);
	if ((c = curl_easy_init()) == NULL)
		bw_err_set(&perr, BW_ENOMEM, "out of memory");
	for (pages = 0; c != NULL && pages < FEED_PAGES_MAX; pages++) {
		struct page p;
		struct share_envelope e;
		if (fetch(c, &src, cursor, next[0] ? next : NULL, cancel, &p, &perr) != 0 ||
		    share_taxii_envelope_read((const char *)p.body.data, p.body.len, bw_now_ms(), &e, &perr) != 0) {
			bw_buf_free(&p.body);
			break;
		}
		bw_buf_free(&p.body);
		res->indicators += e.indicators;
		res->skipped += e.skipped + e.expired;
		if (nall + e.nvalues > FEED_VALUES_MAX) {
			share_envelope_clear(&e);
			bw_err_set(&perr, BW_ERANGE, "more than %d values in one pull", FEED_VALUES_MAX);
			break;
		}
		if (e.nvalues > 0) {
			struct share_feed_value *grown = realloc(all, (nall + e.nvalues) * sizeof *all);
			if (grown == NULL) {
				share_envelope_clear(&e);
				bw_err_set(&perr, BW_ENOMEM, "out of memory");
				break;
			}
			all = grown;
			memcpy(all + nall, e.values, e.nvalues * sizeof *all);
			nall += e.nvalues;
		}
		/* the next pull starts after the last object this one saw */
		if (p.added_last[0] != '\0') {
			if (!share_taxii_time_parse(p.added_last, &us)) {
				share_envelope_clear(&e);
				bw_err_set(&perr, BW_EINVAL, "X-TAXII-Date-Added-Last is not a timestamp");
				break;
			}
			share_taxii_time(us, cursor);
		}
		snprintf(next, sizeof next, "%s", e.more ? e.next : "");
		share_envelope_clear(&e);
		if (next[0] == '\0')
			break;
	}
	if (c != NULL && pages == FEED_PAGES_MAX)
		bw_err_set(&perr, BW_ERANGE, "more than %d pages in one pull (the rest comes next time)", FEED_PAGES_MAX);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (cancel != NULL && atomic_load(cancel)) {
		/* stopping: nothing recorded, the next start pulls the same pages again */
		bw_memzero(&src, sizeof src);
		free(all);
		return 0;
	}
	snprintf(res->error, sizeof res->error, "%s", perr.msg);
	r = ops_feed_pulled(&x, &src, all, nall, res->skipped, strcmp(cursor, src.cursor) != 0 ? cursor : NULL, res->error,
			    &res->values, err);
	bw_memzero(&src, sizeof src);
	free(all);
	return r;
}

int
feeds_pull(struct instance *in, struct audit_log *al, const struct ops_caller *caller, const char *name,
	   struct feed_pull_result *res, struct bw_err *err)
{
	return pull(in, al, caller, name, NULL, res, err);
}

/* Pulls every feed whose interval has passed. */
static void
round_of_pulls(struct feeder *f)
{
	struct ops_caller sys;
	struct ops_ctx x = { .in = f->in, .al = f->al, .caller = &sys };
	struct db_feed *feeds = NULL;
	struct feed_pull_result res;
	struct bw_err err = { 0 };
	int64_t now = server_now();
	size_t n = 0, i;

	ops_caller_system(&sys);
	if (ops_feed_list(&x, &feeds, &n, &err) != 0) {
		EV_LOG(EVLOG_ERROR, "feeds: not listed", EV_KS("error", err.msg));
		return;
	}
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&f->mu);
		bool stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			break;
		if (feeds[i].last_pull_at + feeds[i].interval_secs > now)
			continue;
		if (pull(f->in, f->al, &sys, feeds[i].name, &f->cancel, &res, &err) != 0)
			EV_LOG(EVLOG_ERROR, "feeds: pull not recorded", EV_KS("feed", feeds[i].name), EV_KS("error", err.msg));
	}
	free(feeds);
}

static void *
feeder_main(void *arg)
{
	struct feeder *f = arg;
	struct timespec until;

	pthread_mutex_lock(&f->mu);
	while (!f->stop) {
		pthread_mutex_unlock(&f->mu);
		round_of_pulls(f);
		pthread_mutex_lock(&f->mu);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += FEED_TICK_SECS;
		if (!f->stop)
			pthread_cond_timedwait(&f->cv, &f->mu, &until);
	}
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

int
feeder_start(struct instance *in, struct audit_log *al, struct feeder **out, struct bw_err *err)
{
	struct feeder *f = calloc(1, sizeof *f);

	*out = NULL;
	if (f == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	f->in = in;
	f->al = al;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->thread, NULL, feeder_main, f) != 0) {
		feeder_stop(f);
		return bw_err_set(err, BW_EIO, "feeds: thread not started");
	}
	f->started = true;
	*out = f;
	return 0;
}

void
feeder_stop(struct feeder *f)
{
	if (f == NULL)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		atomic_store(&f->cancel, true);
		pthread_cond_signal(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->thread, NULL);
	}
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}
