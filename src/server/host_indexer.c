/*
 * server/host_indexer.c: the host-event index follows the host-event log
 * on its own thread: entries are indexed once they are integrated (in
 * tiles under a signed checkpoint), in transactions of up to a tile's
 * worth, and never hold up an agent's acknowledgement.
 */
#include <pthread.h>
#include <stdlib.h>

#include "http.h"

#define INDEX_IDLE_MS 200
#define INDEX_STEP 4096

struct host_indexer {
	struct ops_hostev *h;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

static void *
indexer_main(void *arg)
{
	struct host_indexer *ix = arg;
	bool failing = false;

	for (;;) {
		struct bw_err err = { 0 };
		size_t done = 0;
		int r = ops_hostev_index_pending(ix->h, INDEX_STEP, &done, &err);

		if (r != 0 && !failing)
			EV_LOG(EVLOG_ERROR, "host-event index: indexing failed (retrying)", EV_KS("error", err.msg));
		failing = r != 0;
		pthread_mutex_lock(&ix->mu);
		if (!ix->stop && (done == 0 || r != 0)) {
			struct timespec until = bw_deadline_ms(INDEX_IDLE_MS);
			pthread_cond_timedwait(&ix->cv, &ix->mu, &until);
		}
		if (ix->stop) {
			pthread_mutex_unlock(&ix->mu);
			break;
		}
		pthread_mutex_unlock(&ix->mu);
	}
	return NULL;
}

int
host_indexer_start(struct ops_hostev *h, struct host_indexer **out, struct bw_err *err)
{
	struct host_indexer *ix = calloc(1, sizeof *ix);

	*out = NULL;
	if (ix == NULL)
		return bw_err_set(err, BW_ENOMEM, "out of memory");
	ix->h = h;
	pthread_mutex_init(&ix->mu, NULL);
	pthread_cond_init(&ix->cv, NULL);
	if (pthread_create(&ix->thread, NULL, indexer_main, ix) != 0) {
		pthread_mutex_destroy(&ix->mu);
		pthread_cond_destroy(&ix->cv);
		free(ix);
		return bw_err_set(err, BW_EIO, "cannot start the host-event indexer");
	}
	*out = ix;
	return 0;
}

void
host_indexer_stop(struct host_indexer *ix)
{
	if (ix == NULL)
		return;
	pthread_mutex_lock(&ix->mu);
	ix->stop = true;
	pthread_cond_signal(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
	pthread_join(ix->thread, NULL);
	pthread_mutex_destroy(&ix->mu);
	pthread_cond_destroy(&ix->cv);
	free(ix);
}
