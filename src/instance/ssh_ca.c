/*
 * instance/ssh_ca.c: the OpenSSH user CA and its rotation with an overlap
 * window (instance.h says the phases). The rotation file is one line,
 *
 *   bulwark-ssh-ca-rotation v1 PHASE SIGNING_GEN OTHER_GEN SINCE OVERLAP
 *
 * replaced atomically: each step writes what it needs (a new key file)
 * first and the rotation file last, so a crash leaves the earlier state
 * (and at worst a key file nothing names, overwritten by the next rotate).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "instance_internal.h"

#define SSH_CA_AD "bulwark ssh user ca"
#define ROTATION_FILE "keys/ssh_user_ca.rotation"
#define ROTATION_MAGIC "bulwark-ssh-ca-rotation v1"

static const char *const phase_names[] = { "settled", "staged", "activated" };

/* The key file and sealing context of generation gen (0: the one init made). */
static void
gen_names(unsigned gen, char *rel, size_t relcap, char *ad, size_t adcap)
{
	if (gen == 0) {
		snprintf(rel, relcap, "%s", INSTANCE_SSH_CA);
		snprintf(ad, adcap, "%s", SSH_CA_AD);
	} else {
		snprintf(rel, relcap, "keys/ssh_user_ca.%u.sealed", gen);
		snprintf(ad, adcap, "%s #%u", SSH_CA_AD, gen);
	}
}

static int
load_gen(const char *data, const uint8_t *kek, unsigned gen, struct bw_ed25519 *key, struct bw_err *err)
{
	char rel[64], ad[64];

	gen_names(gen, rel, sizeof rel, ad, sizeof ad);
	return sealed_ed25519_load(data, kek, rel, ad, key, err);
}

static int
rotation_read(const char *data, struct instance_ca_rotation *rot, bool *present, struct bw_err *err)
{
	char path[4200], phase[16];
	uint8_t *text = NULL;
	size_t len = 0;
	long long since, overlap;
	int r, used = 0;

	*present = false;
	memset(rot, 0, sizeof *rot);
	if ((r = path_in(path, sizeof path, data, ROTATION_FILE, err)) != 0)
		return r;
	if (access(path, F_OK) != 0)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if ((r = bw_file_read(path, 512, &text, &len, err)) != 0)
		return r;
	r = bw_err_set(err, BW_ECORRUPT, "%s: not a rotation state (\"%s PHASE SIGNING OTHER SINCE OVERLAP\")", path,
		       ROTATION_MAGIC);
	if (sscanf((char *)text, ROTATION_MAGIC " %15s %u %u %lld %lld\n%n", phase, &rot->signing_gen, &rot->other_gen,
		   &since, &overlap, &used) == 5 &&
	    (size_t)used == len && since >= 0 && overlap >= 0) {
		for (int i = 0; i < 3; i++)
			if (strcmp(phase, phase_names[i]) == 0) {
				rot->phase = (enum instance_ca_phase)i;
				r = 0;
			}
		rot->since = since;
		rot->overlap = overlap;
	}
	if (r == 0)
		bw_err_clear(err);
	free(text);
	*present = r == 0;
	return r;
}

static int
rotation_write(const char *data, const struct instance_ca_rotation *rot, struct bw_err *err)
{
	char path[4200], line[160];

	snprintf(line, sizeof line, ROTATION_MAGIC " %s %u %u %lld %lld\n", phase_names[rot->phase], rot->signing_gen,
		 rot->other_gen, (long long)rot->since, (long long)rot->overlap);
	if (path_in(path, sizeof path, data, ROTATION_FILE, err) != 0)
		return BW_ERANGE;
	return bw_file_write_atomic(path, line, strlen(line), 0600, err);
}

int
instance_ca_load(const char *data, const uint8_t *kek, struct instance *in, struct bw_err *err)
{
	bool present;
	int r;

	if ((r = rotation_read(data, &in->ca_rot, &present, err)) != 0)
		return r;
	for (int i = 0; present && i < (in->ca_rot.phase == INSTANCE_CA_SETTLED ? 1 : 2); i++) {
		char rel[64], ad[64], path[4200];
		gen_names(i == 0 ? in->ca_rot.signing_gen : in->ca_rot.other_gen, rel, sizeof rel, ad, sizeof ad);
		if ((r = path_in(path, sizeof path, data, rel, err)) != 0)
			return r;
		if (access(path, F_OK) != 0)	/* never made up anew: hosts trust the one that is gone */
			return bw_err_set(err, BW_ECORRUPT, "%s: the SSH user CA that %s names is missing", path,
					  ROTATION_FILE);
	}
	if ((r = load_gen(data, kek, in->ca_rot.signing_gen, &in->ssh_ca, err)) != 0)
		return r;
	if (in->ca_rot.phase != INSTANCE_CA_SETTLED &&
	    (r = load_gen(data, kek, in->ca_rot.other_gen, &in->ssh_ca_other, err)) != 0)
		return r;
	if (pthread_rwlock_init(&in->ca_lock, NULL) != 0)
		return bw_err_set(err, BW_ENOMEM, "cannot create a lock");
	in->ca_lock_ready = true;
	return 0;
}

void
instance_ca_clear(struct instance *in)
{
	bw_ed25519_free(&in->ssh_ca);
	bw_ed25519_free(&in->ssh_ca_other);
	if (in->ca_lock_ready)
		pthread_rwlock_destroy(&in->ca_lock);
	in->ca_lock_ready = false;
}

void
instance_ca_read_lock(struct instance *in)
{
	pthread_rwlock_rdlock(&in->ca_lock);
}

void
instance_ca_unlock(struct instance *in)
{
	pthread_rwlock_unlock(&in->ca_lock);
}

int
instance_ca_rotate(struct instance *in, int64_t now, int64_t overlap, struct bw_err *err)
{
	struct instance_ca_rotation rot;
	struct bw_ed25519 fresh = { 0 };
	char rel[64], ad[64], path[4200];
	int r;

	pthread_rwlock_wrlock(&in->ca_lock);
	rot = in->ca_rot;
	if (rot.phase != INSTANCE_CA_SETTLED) {
		r = bw_err_set(err, BW_ECONFLICT, "a rotation of the SSH user CA is under way (%s): %s it first",
			       phase_names[rot.phase], rot.phase == INSTANCE_CA_STAGED ? "activate" : "retire");
		goto out;
	}
	rot = (struct instance_ca_rotation){ INSTANCE_CA_STAGED, in->ca_rot.signing_gen, in->ca_rot.signing_gen + 1, now,
					     overlap };
	gen_names(rot.other_gen, rel, sizeof rel, ad, sizeof ad);
	if ((r = path_in(path, sizeof path, in->data, rel, err)) != 0)
		goto out;
	unlink(path);	/* a key a crashed rotate left, which nothing names */
	if ((r = load_gen(in->data, in->kek, rot.other_gen, &fresh, err)) != 0 ||
	    (r = rotation_write(in->data, &rot, err)) != 0) {
		bw_ed25519_free(&fresh);
		goto out;
	}
	in->ssh_ca_other = fresh;
	in->ca_rot = rot;
out:
	pthread_rwlock_unlock(&in->ca_lock);
	return r;
}

int
instance_ca_activate(struct instance *in, int64_t now, struct bw_err *err)
{
	struct instance_ca_rotation rot;
	struct bw_ed25519 t;
	int r;

	pthread_rwlock_wrlock(&in->ca_lock);
	rot = in->ca_rot;
	if (rot.phase != INSTANCE_CA_STAGED)
		r = bw_err_set(err, BW_ECONFLICT, "no new SSH user CA is staged (the rotation is %s)", phase_names[rot.phase]);
	else if (now < rot.since + rot.overlap)
		r = bw_err_set(err, BW_ECONFLICT,
			       "the new SSH user CA was published %lld s ago; hosts are given %lld s to fetch it "
			       "(activation possible in %lld s)",
			       (long long)(now - rot.since), (long long)rot.overlap, (long long)(rot.since + rot.overlap - now));
	else {
		rot = (struct instance_ca_rotation){ INSTANCE_CA_ACTIVATED, in->ca_rot.other_gen, in->ca_rot.signing_gen, now,
						     in->ca_rot.overlap };
		if ((r = rotation_write(in->data, &rot, err)) == 0) {
			t = in->ssh_ca;
			in->ssh_ca = in->ssh_ca_other;
			in->ssh_ca_other = t;
			in->ca_rot = rot;
		}
	}
	pthread_rwlock_unlock(&in->ca_lock);
	return r;
}

int
instance_ca_retire(struct instance *in, int64_t now, struct bw_err *err)
{
	struct instance_ca_rotation rot;
	char rel[64], ad[64], path[4200];
	int r;

	pthread_rwlock_wrlock(&in->ca_lock);
	rot = in->ca_rot;
	if (rot.phase != INSTANCE_CA_ACTIVATED) {
		r = bw_err_set(err, BW_ECONFLICT, "no old SSH user CA to retire (the rotation is %s)", phase_names[rot.phase]);
		goto out;
	}
	rot = (struct instance_ca_rotation){ INSTANCE_CA_SETTLED, in->ca_rot.signing_gen, 0, now, 0 };
	if ((r = rotation_write(in->data, &rot, err)) != 0)
		goto out;
	gen_names(in->ca_rot.other_gen, rel, sizeof rel, ad, sizeof ad);
	if (path_in(path, sizeof path, in->data, rel, err) == 0)
		unlink(path);	/* the old key signs nothing more */
	bw_ed25519_free(&in->ssh_ca_other);
	in->ca_rot = rot;
out:
	pthread_rwlock_unlock(&in->ca_lock);
	return r;
}
