// SPDX-License-Identifier: GPL-2.0-only
/* lock.c - the namespace's writer lock and its journal (lock.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crashpoint.h"
#include "lock.h"
#include "log.h"
#include "pins.h"

static int lock_dir(const char *rundir, char *buf, size_t size, bool make)
{
	if (!rundir)
		return pins_run_dir(buf, size, make);
	if ((size_t)snprintf(buf, size, "%s", rundir) >= size)
		return -ENAMETOOLONG;
	return 0;
}

static void lock_path(const char *dir, char *buf, size_t size)
{
	snprintf(buf, size, "%s/lock", dir);
}

static int ofd_lock(int fd, short type, int cmd)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	int err;

	do
		err = fcntl(fd, cmd, &fl);
	while (err && errno == EINTR);
	if (err)
		return -errno;
	return cmd == F_OFD_GETLK ? fl.l_type != F_UNLCK : 0;
}

/* The file at path is the one fd has open (not removed meanwhile). */
static bool still_there(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

static void read_record(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int state_lock(const char *rundir, const char *what, struct state_lock *l,
	       char *prev, size_t size)
{
	char path[PATH_MAX + 8], rec[300];
	int err = lock_dir(rundir, l->dir, sizeof(l->dir), true), n;

	l->fd = -1;
	if (err)
		return err;
	lock_path(l->dir, path, sizeof(path));
	for (;;) {
		l->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (l->fd < 0 && errno == ENOENT &&
		    (mkdir(TCPF_RUN_ROOT, 0700) == 0 || errno == EEXIST) &&
		    (mkdir(l->dir, 0700) == 0 || errno == EEXIST))
			continue;	/* its last holder removed it */
		if (l->fd < 0)
			return -errno;
		err = ofd_lock(l->fd, F_WRLCK, F_OFD_SETLKW);
		if (err) {
			close(l->fd);
			l->fd = -1;
			return err;
		}
		if (still_there(l->fd, path))
			break;
		close(l->fd);
	}
	read_record(l->fd, prev, size);
	n = snprintf(rec, sizeof(rec), "%d %.240s\n", (int)getpid(), what);
	if (ftruncate(l->fd, 0) || pwrite(l->fd, rec, (size_t)n, 0) != n)
		pr_debug("cannot write the lock's record: %s", strerror(errno));
	crash_point("lock");
	return 0;
}

void state_unlock(struct state_lock *l)
{
	char pins[PATH_MAX + 8], path[PATH_MAX + 8];

	if (l->fd < 0)
		return;
	snprintf(pins, sizeof(pins), "%s%s", TCPF_PIN_ROOT,
		 strrchr(l->dir, '/'));
	lock_path(l->dir, path, sizeof(path));
	if (faccessat(AT_FDCWD, pins, F_OK, AT_EACCESS) && errno == ENOENT) {
		/* nothing of this namespace is left: neither is its lock */
		unlink(path);
		rmdir(l->dir);
	} else if (ftruncate(l->fd, 0)) {
		pr_debug("cannot clear the lock's record: %s", strerror(errno));
	}
	close(l->fd);
	l->fd = -1;
}

int state_lock_view(const char *rundir, struct lock_view *v)
{
	char dir[PATH_MAX], path[PATH_MAX + 8];
	int fd, err = lock_dir(rundir, dir, sizeof(dir), false);

	memset(v, 0, sizeof(*v));
	if (err)
		return err;
	lock_path(dir, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = ofd_lock(fd, F_WRLCK, F_OFD_GETLK);
	read_record(fd, v->what, sizeof(v->what));
	close(fd);
	if (err < 0)
		return err;
	v->held = err == 1;
	v->left = !v->held && v->what[0];
	return 0;
}
