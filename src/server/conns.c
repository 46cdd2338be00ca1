/*
 * server/conns.c: connection limits libmicrohttpd lacks. Each client address
 * group (an IPv4 address, an IPv6 /64) may hold at most CONNS_PER_GROUP
 * connections (the library's own per-IP limit cannot group IPv6), and a
 * request's headers must arrive within HTTP_HEADER_DEADLINE_SECS of the
 * connection's start or of the previous response (the library's timeout
 * counts only idle time, so one byte every few seconds kept a slot forever),
 * and a body must keep arriving at HTTP_BODY_MIN_RATE on average (each
 * chunk earns time, at most HTTP_BODY_SLACK_SECS ahead): a timer shuts down
 * the sockets of connections past their deadline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http.h"

#define CONNS_GROUPS 1024	/* more than the daemon's 512 connections: a group with a connection always has a slot */

struct conn {
	struct conn *prev, *next;
	void *owner;			/* the conns' owner (the server) */
	int fd;
	_Atomic int64_t deadline_ms;	/* 0: headers arrived (set lock-free by the connection's own thread) */
	bool shut;
	char group[BW_ADDR_GROUP_MAX];
};

struct group_count {
	char group[BW_ADDR_GROUP_MAX];
	int n;
};

struct conns {
	pthread_mutex_t mu;
	struct conn *head;
	struct group_count *groups;	/* CONNS_GROUPS, open addressing by hash */
	int per_group;
	int64_t header_ms;
	pthread_t timer;
	bool stop, started;
	pthread_cond_t cv;
	void *owner;
};

/* The slot counting group: its own, else the first free one (caller holds mu). */
static size_t
group_slot(struct conns *cs, const char *group)
{
	size_t i, free_slot = CONNS_GROUPS;

	for (i = 0; i < CONNS_GROUPS; i++) {
		if (cs->groups[i].n > 0 && strcmp(cs->groups[i].group, group) == 0)
			return i;
		if (cs->groups[i].n == 0 && free_slot == CONNS_GROUPS)
			free_slot = i;
	}
	return free_slot < CONNS_GROUPS ? free_slot : 0;	/* (cannot be full: see CONNS_GROUPS) */
}

static void *
timer_main(void *arg)
{
	struct conns *cs = arg;

	pthread_mutex_lock(&cs->mu);
	while (!cs->stop) {
		struct timespec until;
		struct conn *c;
		int64_t now = bw_now_ms();
		for (c = cs->head; c != NULL; c = c->next) {
			int64_t d = atomic_load(&c->deadline_ms);
			if (d != 0 && now >= d && !c->shut) {
				shutdown(c->fd, SHUT_RDWR);	/* the library sees the end and closes it */
				c->shut = true;
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&cs->cv, &cs->mu, &until);
	}
	pthread_mutex_unlock(&cs->mu);
	return NULL;
}

int
conns_new(int per_group, int64_t header_secs, void *owner, struct conns **out)
{
	struct conns *cs = calloc(1, sizeof *cs);

	*out = NULL;
	if (cs == NULL || (cs->groups = calloc(CONNS_GROUPS, sizeof *cs->groups)) == NULL) {
		free(cs);
		return BW_ENOMEM;
	}
	pthread_mutex_init(&cs->mu, NULL);
	pthread_cond_init(&cs->cv, NULL);
	cs->per_group = per_group;
	cs->owner = owner;
	cs->header_ms = header_secs * 1000;
	if (pthread_create(&cs->timer, NULL, timer_main, cs) != 0) {
		conns_free(cs);
		return BW_EIO;
	}
	cs->started = true;
	*out = cs;
	return 0;
}

void
conns_free(struct conns *cs)
{
	if (cs == NULL)
		return;
	if (cs->started) {
		pthread_mutex_lock(&cs->mu);
		cs->stop = true;
		pthread_cond_signal(&cs->cv);
		pthread_mutex_unlock(&cs->mu);
		pthread_join(cs->timer, NULL);
	}
	while (cs->head != NULL) {
		struct conn *c = cs->head;
		cs->head = c->next;
		free(c);
	}
	pthread_cond_destroy(&cs->cv);
	pthread_mutex_destroy(&cs->mu);
	free(cs->groups);
	free(cs);
}

bool
conns_admit(struct conns *cs, const char *addr)
{
	char group[BW_ADDR_GROUP_MAX];
	bool ok;

	bw_addr_group(addr, group, sizeof group);
	pthread_mutex_lock(&cs->mu);
	ok = cs->groups[group_slot(cs, group)].n < cs->per_group;
	pthread_mutex_unlock(&cs->mu);
	return ok;
}

void *
conns_started(struct conns *cs, int fd, const char *addr)
{
	struct conn *c = calloc(1, sizeof *c);
	size_t k;

	if (c == NULL)
		return NULL;
	c->fd = fd;
	c->owner = cs->owner;
	bw_addr_group(addr, c->group, sizeof c->group);
	atomic_store(&c->deadline_ms, bw_now_ms() + cs->header_ms);
	pthread_mutex_lock(&cs->mu);
	k = group_slot(cs, c->group);
	snprintf(cs->groups[k].group, sizeof cs->groups[k].group, "%s", c->group);
	cs->groups[k].n++;
	c->next = cs->head;
	if (cs->head != NULL)
		cs->head->prev = c;
	cs->head = c;
	pthread_mutex_unlock(&cs->mu);
	return c;
}

void *
conns_owner(void *ctx)
{
	return ctx != NULL ? ((struct conn *)ctx)->owner : NULL;
}

void
conns_headers_done(struct conns *cs, void *ctx)
{
	struct conn *c = ctx;

	(void)cs;
	/* The body (if any) comes next: it must start within the slack. No lock: only this connection's thread writes it. */
	if (c != NULL)
		atomic_store(&c->deadline_ms, bw_now_ms() + HTTP_BODY_SLACK_SECS * 1000);
}

void
conns_body_progress(struct conns *cs, void *ctx, size_t n)
{
	struct conn *c = ctx;
	int64_t now = bw_now_ms(), d, cap = now + HTTP_BODY_SLACK_SECS * 1000;

	(void)cs;
	if (c == NULL)
		return;
	/* n bytes earn n / HTTP_BODY_MIN_RATE seconds; a client below the rate runs out of time. */
	d = atomic_load(&c->deadline_ms) + (int64_t)(n > (size_t)1 << 40 ? (size_t)1 << 40 : n) * 1000 / HTTP_BODY_MIN_RATE;
	atomic_store(&c->deadline_ms, d < cap ? d : cap);
}

void
conns_body_done(struct conns *cs, void *ctx)
{
	struct conn *c = ctx;

	(void)cs;
	if (c != NULL)
		atomic_store(&c->deadline_ms, 0);	/* the request is the server's to answer now */
}

void
conns_request_done(struct conns *cs, void *ctx)
{
	struct conn *c = ctx;

	if (c != NULL)
		atomic_store(&c->deadline_ms, bw_now_ms() + cs->header_ms);	/* the next request's headers: a new deadline */
}

void
conns_closed(struct conns *cs, void *ctx)
{
	struct conn *c = ctx;
	size_t k;

	if (c == NULL)
		return;
	pthread_mutex_lock(&cs->mu);
	k = group_slot(cs, c->group);
	if (cs->groups[k].n > 0)
		cs->groups[k].n--;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		cs->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&cs->mu);
	free(c);
}
