/*
 * libFuzzer target: a log key transition as a verifier follows it (a
 * tlog-proof of the log.key_transition entry under the handover
 * checkpoint), from a fixed first key (the seed "handover" is a real
 * transition from it). Properties: no crash, no leak; a refusal leaves the
 * chain as it was and says why; a transition followed adds exactly one key,
 * another one of the same log, from the handover's size (or, naming the key
 * pinned, starts the chain there), and the handover
 * checkpoint opens under the chain.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/events.h"
#include "tlog/tlog.h"

static const char first[] = "test.example/audit+baacbde6+AdgJN762i+gvXHqnEhBHWyKjahFX66fkCpoaDIr0tTyT";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bw_sha256 *h;
	struct tlog_keychain c;
	struct tlog_checkpoint ho = { 0 };
	struct bw_err err = { 0 };
	int r;

	if (h == NULL && (bw_crypto_init(NULL) != 0 || bw_sha256_new(&h, &err) != 0))
		abort();
	if (tlog_keychain_init(&c, first, strlen(first), &err) != 0)
		abort();
	r = tlog_keychain_follow(&c, h, data, size, ev_log_key_transition_key, NULL, &ho, &err);
	if (r != 0) {
		if (c.n != 1 || err.msg[0] == '\0')
			abort();
	} else {
		struct tlog_proof_file pf = { 0 };
		struct tlog_checkpoint again = { 0 };
		bool pinned_later = c.n == 1 && c.from[0] == ho.size;	/* it named the key pinned: the chain starts there */
		if (!pinned_later && (c.n != 2 || c.from[1] != ho.size || ho.size == 0 ||
				      strcmp(c.key[1]->name, c.key[0]->name) != 0 ||
				      memcmp(c.key[1]->pk, c.key[0]->pk, sizeof c.key[0]->pk) == 0))
			abort();
		if (tlog_proof_file_parse(data, size, &pf, &err) != 0 ||
		    tlog_keychain_open(&c, (const uint8_t *)pf.checkpoint, pf.checkpoint_len, &again, &err) != 0)
			abort();
		tlog_checkpoint_clear(&again);
		tlog_proof_file_clear(&pf);
	}
	tlog_checkpoint_clear(&ho);
	tlog_keychain_clear(&c);
	return 0;
}
