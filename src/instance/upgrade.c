/*
 * instance/upgrade.c: a data directory's database brought to this
 * program's schema after a package upgrade: copied first, then migrated;
 * a database of a newer schema (a downgrade) refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "instance.h"
#include "tlog/tlog.h"

/* BW_EBUSY when a server holds data's audit log (its writer lock). */
static int
server_running(const char *data, struct bw_err *err)
{
	char path[4200];
	int fd, r = 0;

	snprintf(path, sizeof path, "%s/%s/%s", data, INSTANCE_LOG_DIR, TLOG_LOCK_FILE);
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : bw_err_set(err, BW_EIO, "%s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		r = bw_err_set(err, BW_EBUSY, "a server is running on %s (it holds the audit log's lock): stop it first", data);
	close(fd);	/* releases the lock if taken */
	return r;
}

int
instance_upgrade(const char *data, struct instance_upgrade_result *res, struct bw_err *err)
{
	char db[4096];
	struct bw_db *h = NULL;
	int64_t v = 0;
	int r;

	memset(res, 0, sizeof *res);
	res->to = DB_SCHEMA_VERSION;
	if ((size_t)snprintf(db, sizeof db, "%s/%s", data, INSTANCE_DB) >= sizeof db)
		return bw_err_set(err, BW_ERANGE, "%s: path too long", data);
	if (access(db, F_OK) != 0)
		return bw_err_set(err, BW_ENOTFOUND, "%s holds no bulwark instance (nothing to upgrade)", data);
	if ((r = server_running(data, err)) != 0 || (r = db_file_schema_version(db, &v, err)) != 0)
		return r;
	res->from = v;
	if (v > DB_SCHEMA_VERSION)
		return bw_err_set(err, BW_ECONFLICT,
				  "%s has database schema %lld, newer than this bulwark's %d: a downgrade is refused "
				  "(install the version that wrote it or later, or restore a backup made before the upgrade)",
				  data, (long long)v, DB_SCHEMA_VERSION);
	if (v == DB_SCHEMA_VERSION)
		return 0;
	if ((size_t)snprintf(res->copy, sizeof res->copy, "%s.before-schema-%lld-to-%d", db, (long long)v,
			     DB_SCHEMA_VERSION) >= sizeof res->copy)
		return bw_err_set(err, BW_ERANGE, "%s: path too long", data);
	if (access(res->copy, F_OK) == 0)
		return bw_err_set(err, BW_EEXIST, "%s exists already (an earlier upgrade's copy: move it away first)",
				  res->copy);
	if ((r = db_snapshot(db, res->copy, err)) != 0 || (r = db_open(db, false, &h, err)) != 0)
		return r;
	db_close(h);
	res->migrated = true;
	return 0;
}
