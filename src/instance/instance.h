/*
 * instance: the data directory: database, key-encryption key, sealed keys
 * (log, SSH user CA, TUF online roles), TLS material; creating one
 * (instance_init) and opening one (instance_open).
 */
#ifndef BW_INSTANCE_H
#define BW_INSTANCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth.h"
#include "note/note.h"
#include "store/store.h"

#define INSTANCE_DB "bulwark.db"
#define INSTANCE_KEK "kek"
#define INSTANCE_KEK_ARGON "kek.argon2id"
#define INSTANCE_LOG_KEY "keys/log.sealed"
#define INSTANCE_LOG_KEY_NEXT "keys/log.next.sealed"	/* staged by a log key rotation until the log is handed over */
#define INSTANCE_SSH_CA "keys/ssh_user_ca.sealed"
#define INSTANCE_TUF_SNAPSHOT "keys/tuf_snapshot.sealed"
#define INSTANCE_TUF_TIMESTAMP "keys/tuf_timestamp.sealed"
#define INSTANCE_TUF_SNAPSHOT_NEXT "keys/tuf_snapshot.next.sealed"
#define INSTANCE_TUF_TIMESTAMP_NEXT "keys/tuf_timestamp.next.sealed"
#define INSTANCE_LOG_DIR "log"
#define INSTANCE_HOSTLOG_KEY "keys/hostlog.sealed"
#define INSTANCE_WITNESS_KEY "keys/witness.sealed"	/* this server as a witness: "<audit log origin>/witness", type 0x04 */
#define INSTANCE_WITNESS_DB "witness.db"
#define INSTANCE_HOSTLOG_DIR "hostlog"		/* the host-event log: origin "<audit log origin>/hosts" */
#define INSTANCE_HOSTDB "hostevents.db"		/* its index, rebuilt from it when lost */
#define INSTANCE_PATCH_DIR "patch"
#define INSTANCE_SAMPLES_DIR "samples"	/* reported samples, each sealed (crypto_secretstream) under a subkey of the KEK */
#define INSTANCE_TLS_CERT "tls/cert.pem"
#define INSTANCE_TLS_KEY "tls/key.pem"

struct instance_init_opts {
	const char *data;		/* the data directory (must not hold an instance) */
	const char *origin;		/* log origin, e.g. "bulwark.example/audit" */
	const char *passphrase;		/* NULL: random key-encryption key in a 0600 file */
	const char *tls_cert, *tls_key;	/* NULL: generate a self-signed certificate */
	const struct bw_pwhash_cost *cost;
};

/* What init reports (shown once). Clear with instance_init_result_clear(). */
struct instance_init_result {
	char *log_vkey;
};

void instance_init_result_clear(struct instance_init_result *r);

/*
 * Creates a data directory: database, KEK, sealed keys, log, TLS. It holds
 * no user yet: the first admin is added by an operation (ops_user_add) so
 * that the log's first event records it.
 */
int instance_init(const struct instance_init_opts *o, struct instance_init_result *res,
		  struct bw_err *err);

/*
 * The SSH user CA's rotation (docs/OPERATIONS.md): staged (a new CA published
 * beside the one that signs, for the hosts to fetch), activated (the new one
 * signs; the old one still published while certificates it signed are in
 * force), settled (one CA). Generation 0 is keys/ssh_user_ca.sealed, a later
 * one keys/ssh_user_ca.N.sealed; keys/ssh_user_ca.rotation names them.
 */
enum instance_ca_phase { INSTANCE_CA_SETTLED, INSTANCE_CA_STAGED, INSTANCE_CA_ACTIVATED };
struct instance_ca_rotation {
	enum instance_ca_phase phase;
	unsigned signing_gen, other_gen;
	int64_t since;			/* seconds: when the phase began */
	int64_t overlap;		/* seconds the staged CA is published before it may sign */
};

/* An opened data directory. */
struct instance {
	char *data;
	struct bw_db *db;
	struct auth auth;
	uint8_t *kek;			/* BW_AEAD_KEY_SIZE bytes of secure memory: the one copy of the KEK */
	struct note_signer *log_signer;	/* until handed to the audit log */
	struct note_verifier *log_verifier;	/* a server's threads read it (and log_vkey) with instance_log_verifier() */
	struct bw_ed25519 ssh_ca;	/* the OpenSSH user CA that signs (Ed25519); hold ca_lock (read) to use it */
	struct bw_ed25519 ssh_ca_other;	/* during a rotation, the CA published beside it: staged, or retiring */
	struct instance_ca_rotation ca_rot;
	pthread_rwlock_t ca_lock;	/* readers of the CAs and ca_rot against a rotation step */
	bool ca_lock_ready;
	struct bw_ed25519 tuf_snapshot;	/* TUF online keys: snapshot and timestamp roles */
	struct bw_ed25519 tuf_timestamp;
	struct bw_ed25519 tuf_snapshot_next;	/* staged for a rotation (sk NULL when none): a new root names them */
	struct bw_ed25519 tuf_timestamp_next;
	char *log_dir;
	char *log_vkey;
	struct note_signer *hostlog_signer;	/* until handed to the host-event log */
	char *hostlog_dir;
	char *hostlog_vkey;
	char *hostdb_path;
	struct note_signer *witness_signer;	/* cosignature/v1 key of this server as a witness */
	char *witness_vkey;
	char *witness_db_path;
	pthread_mutex_t log_key_mu;	/* one log key rotation at a time */
	bool log_key_mu_ready;
	struct instance_retired_key *log_retired;	/* log keys replaced by a rotation: valid until close */
};

/*
 * The log's verifier key now, and its text: for any thread (a rotation
 * replaces them; the ones replaced stay valid until instance_close).
 */
struct note_verifier *instance_log_verifier(const struct instance *in);
const char *instance_log_vkey(const struct instance *in);

/* ---- the SSH user CA's rotation (ssh_ca.c); each step durable before it shows ---- */

/* Stages a new CA (phase settled -> staged), published at once, signing from now + overlap seconds. */
int instance_ca_rotate(struct instance *in, int64_t now, int64_t overlap, struct bw_err *err);
/* The staged CA signs from now on (staged -> activated); BW_ECONFLICT before its overlap has passed. */
int instance_ca_activate(struct instance *in, int64_t now, struct bw_err *err);
/* The old CA is no longer published and its key is deleted (activated -> settled). */
int instance_ca_retire(struct instance *in, int64_t now, struct bw_err *err);
/* Read access to ssh_ca, ssh_ca_other and ca_rot (any number of readers at once). */
void instance_ca_read_lock(struct instance *in);
void instance_ca_unlock(struct instance *in);

/*
 * ---- the TUF online keys' rotation (tuf_keys.c; callers hold the patch
 * repository's lock). A staged pair waits until a root naming it is
 * published; then each role's staged key replaces its key (a rename: the
 * sealed file is bound to the role, not the name).
 */
/* Stages new snapshot and timestamp keys (the ones staged already, if any). */
int instance_tuf_stage(struct instance *in, struct bw_err *err);
/* The staged key of role ("snapshot", "timestamp") becomes its key. */
int instance_tuf_promote(struct instance *in, const char *role, struct bw_err *err);

/*
 * ---- the audit log key's rotation (log_key.c; the log's writer lock held:
 * ops_log_key_rotate, ops_log_open). The next key is staged sealed first;
 * once the log is handed over to it, promoting erases the old key (its file
 * overwritten, then replaced) and updates log_vkey and log_verifier.
 */
/* Stages a new log key (BW_ECONFLICT when one is staged already). *next (caller frees): its signer. */
int instance_log_key_stage(struct instance *in, struct note_signer **next, struct bw_err *err);
/* When the log key in use was installed (seconds since the epoch: its sealed file's time). */
int instance_log_key_since(struct instance *in, int64_t *since, struct bw_err *err);
/* A copy of the log key in use (from its sealed file). *out: caller frees. */
int instance_log_signer(struct instance *in, struct note_signer **out, struct bw_err *err);
/* The staged key, if any (BW_ENOTFOUND when none). *next: caller frees. */
int instance_log_key_staged(struct instance *in, struct note_signer **next, struct bw_err *err);
/*
 * The staged key becomes the log key; the old one is erased. in->log_signer,
 * if held, is replaced; log_verifier and log_vkey are replaced for all threads.
 */
int instance_log_key_promote(struct instance *in, struct bw_err *err);
/* The staged key is erased (a rotation whose transition never reached the log). */
int instance_log_key_unstage(struct instance *in, struct bw_err *err);

/* Opens data (passphrase NULL for file mode). Caller closes. */
int instance_open(const char *data, const char *passphrase, const struct bw_pwhash_cost *cost,
		  struct instance *in, struct bw_err *err);
void instance_close(struct instance *in);
/* True when data uses a passphrase-derived KEK. */
bool instance_needs_passphrase(const char *data);

struct instance_upgrade_result {
	int64_t from, to;		/* the database's schema before, and this program's */
	bool migrated;			/* from < to: copied to copy, then migrated */
	char copy[4200];
};
/*
 * Brings data's database to this program's schema (after a package
 * upgrade, with the server stopped: BW_EBUSY while one holds the log):
 * copies it first (SQLite's backup, to bulwark.db.before-schema-FROM-to-TO,
 * never overwriting one), then migrates it. A database of a newer schema
 * than this program knows is refused (BW_ECONFLICT): no downgrade.
 */
int instance_upgrade(const char *data, struct instance_upgrade_result *res, struct bw_err *err);

/* Generates a self-signed ECDSA P-256 certificate (PEM) for localhost, 127.0.0.1 and ::1. */
int tls_self_signed(const char *cert_path, const char *key_path, struct bw_err *err);

#endif /* BW_INSTANCE_H */
