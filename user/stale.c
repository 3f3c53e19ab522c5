// SPDX-License-Identifier: GPL-2.0-only
/* stale.c - pins of deleted network namespaces (stale.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "pins.h"
#include "stale.h"

/* The namespaces seen so far, by inode, and their cookies. */
struct seen {
	unsigned long long *ino, *cookie;
	int n, cap;
	int home;               /* our own namespace, to come back to */
	int blind;              /* namespaces seen but not entered */
	int err;
};

static bool known(const struct seen *s, unsigned long long ino)
{
	for (int i = 0; i < s->n; i++)
		if (s->ino[i] == ino)
			return true;
	return false;
}

/* The inode of the namespace behind path: a /proc link names it even
 * where it cannot be opened (PID 1's here); a mount is stat'ed. */
static int ns_inode(const char *path, unsigned long long *ino)
{
	char target[64];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	struct stat st;

	*ino = 0;	/* whatever fails below */
	if (n > 0) {
		char *end;

		/* "net:[4026531840]"; strtoull: sscanf's %llu is undefined
		 * past its range */
		target[n] = '\0';
		if (strncmp(target, "net:[", 5) ||
		    !isdigit((unsigned char)target[5]))
			return -EINVAL;
		errno = 0;
		*ino = strtoull(target + 5, &end, 10);
		return errno || strcmp(end, "]") ? -EINVAL : 0;
	}
	if (stat(path, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

static int remember(struct seen *s, unsigned long long ino,
		    unsigned long long cookie)
{
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		void *a = realloc(s->ino, cap * sizeof(*s->ino));
		void *b = a ? realloc(s->cookie, cap * sizeof(*s->cookie))
			    : NULL;

		if (a)
			s->ino = a;
		if (!b)
			return -ENOMEM;
		s->cookie = b;
		s->cap = cap;
	}
	s->ino[s->n] = ino;
	s->cookie[s->n++] = cookie;
	return 0;
}

/*
 * A namespace file: its cookie, read from inside it, if not seen yet.
 * One that is there but cannot be entered makes the whole answer unsure
 * (blind): a namespace not entered might be any stale-looking one.
 */
static void visit(struct seen *s, const char *path)
{
	unsigned long long ino, cookie;
	int fd, err;

	if (ns_inode(path, &ino) || known(s, ino))
		return;	/* gone meanwhile, or seen */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ESRCH)
			s->blind++;
		return;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = errno;
		close(fd);
		if (err == EPERM)
			s->err = -EPERM;	/* not privileged: no answer */
		else if (err != EINVAL)
			s->blind++;	/* EINVAL: not a network namespace */
		return;
	}
	if (pins_netns_id(&cookie))
		s->err = -EIO;
	if (setns(s->home, CLONE_NEWNET))
		s->err = -errno;
	close(fd);
	if (!s->err)
		s->err = remember(s, ino, cookie);
}

static bool is_net_link(const char *path)
{
	char target[64];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n <= 0)
		return false;
	target[n] = '\0';
	return !strncmp(target, "net:[", 5);
}

static bool numeric(const char *name)
{
	if (!*name)
		return false;
	for (; *name; name++)
		if (!isdigit((unsigned char)*name))
			return false;
	return true;
}

/* The namespaces a process's threads are in and its open files name. */
static void visit_process(struct seen *s, const char *pid)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%s/ns/net", pid);
	visit(s, path);
	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (!numeric(de->d_name) || !strcmp(de->d_name, pid))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/net", pid,
			 de->d_name);
		visit(s, path);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, de->d_name);
		if (numeric(de->d_name) && is_net_link(path))
			visit(s, path);
	}
	if (d)
		closedir(d);
}

/* The nsfs mounts of the process's mount namespace (once per namespace). */
static void visit_mounts(struct seen *s, const char *pid,
			 unsigned long long *mntns, int *nmnt, int max)
{
	char path[PATH_MAX + 300], line[4096], root[128], point[PATH_MAX];
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
	if (stat(path, &st))
		return;
	for (int i = 0; i < *nmnt; i++)
		if (mntns[i] == st.st_ino)
			return;
	if (*nmnt < max)
		mntns[(*nmnt)++] = st.st_ino;
	snprintf(path, sizeof(path), "/proc/%s/mountinfo", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - nsfs ");

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ...: ROOT is net:[N] */
		if (!sep || sscanf(line, "%*s %*s %*s %127s %4095s", root,
				   point) != 2 || strncmp(root, "net:[", 5))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/root%s", pid, point);
		visit(s, path);
	}
	if (f)
		fclose(f);
}

/* Every live network namespace's cookie. */
static int live_cookies(struct seen *s)
{
	unsigned long long mntns[256];
	int nmnt = 0;
	struct dirent *de;
	DIR *d;

	memset(s, 0, sizeof(*s));
	s->home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (s->home < 0)
		return -errno;
	visit(s, "/proc/self/ns/net");
	d = opendir("/proc");
	if (!d) {
		s->err = -errno;
	} else {
		while ((de = readdir(d)) && !s->err) {
			if (!numeric(de->d_name))
				continue;
			visit_process(s, de->d_name);
			visit_mounts(s, de->d_name, mntns, &nmnt, 256);
		}
		closedir(d);
	}
	close(s->home);
	if (!s->err && s->blind)
		s->err = -EHOSTUNREACH;
	return s->err;
}

static void seen_free(struct seen *s)
{
	free(s->ino);
	free(s->cookie);
}

static bool ns_name(const char *name, unsigned long long *cookie)
{
	if (name[0] != 'n' || name[1] != 's' || !numeric(name + 2))
		return false;
	errno = 0;	/* digits only: strtoull stops at none, but may overflow */
	*cookie = strtoull(name + 2, NULL, 10);
	return !errno;
}

static bool cookie_alive(const struct seen *s, unsigned long long cookie)
{
	for (int i = 0; i < s->n; i++)
		if (s->cookie[i] == cookie)
			return true;
	return false;
}

int stale_alive(const char *name)
{
	unsigned long long cookie;
	struct seen s;
	int err, alive;

	if (!ns_name(name, &cookie))
		return -EINVAL;
	err = live_cookies(&s);
	alive = cookie_alive(&s, cookie);
	seen_free(&s);
	return err ? err : alive;
}

/* What the directories of one namespace hold. */
static void describe(struct stale_ns *x)
{
	char dir[PATH_MAX], sub[PATH_MAX + 300];
	struct dirent *de;
	DIR *d, *e;

	snprintf(dir, sizeof(dir), "%s/%s", TCPF_PIN_ROOT, x->name);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_DIR) {
			x->pins++;
			continue;
		}
		if (x->nifaces < STALE_IFACES)
			snprintf(x->ifaces[x->nifaces], IF_NAMESIZE, "%.15s",
				 de->d_name);
		x->nifaces++;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		e = opendir(sub);
		while (e && (de = readdir(e)))
			x->pins += de->d_name[0] != '.';
		if (e)
			closedir(e);
	}
	if (d)
		closedir(d);
	snprintf(dir, sizeof(dir), "%s/%s", TCPF_RUN_ROOT, x->name);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		x->sources += n > 6 && !strcmp(de->d_name + n - 6, ".rules");
	}
	if (d)
		closedir(d);
}

/* Add the ns<cookie> directories of root not alive and not listed yet. */
static int scan_root(const char *root, const struct seen *s,
		     struct stale_ns *out, int n, int max)
{
	unsigned long long cookie;
	struct dirent *de;
	DIR *d = opendir(root);
	bool dup;

	while (d && (de = readdir(d))) {
		if (!ns_name(de->d_name, &cookie) || cookie_alive(s, cookie))
			continue;
		dup = false;
		for (int i = 0; i < n; i++)
			dup |= !strcmp(out[i].name, de->d_name);
		if (dup || n >= max)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		snprintf(out[n].name, sizeof(out[n].name), "%.31s", de->d_name);
		describe(&out[n++]);
	}
	if (d)
		closedir(d);
	return n;
}

bool stale_host_ns(void)
{
	struct stat self, init;

	/* kthreadd (PID 2) lives in the initial namespace, as every kernel
	 * thread does; PID 1's may not be readable (a VM's own init) */
	return !stat("/proc/self/ns/net", &self) &&
	       !stat("/proc/2/ns/net", &init) && self.st_ino == init.st_ino &&
	       self.st_dev == init.st_dev;
}

int stale_list(struct stale_ns *out, int max)
{
	struct seen s;
	int n, err;

	/* nothing pinned, nothing saved: no need to look at the system */
	if (faccessat(AT_FDCWD, TCPF_PIN_ROOT, F_OK, AT_EACCESS) &&
	    faccessat(AT_FDCWD, TCPF_RUN_ROOT, F_OK, AT_EACCESS))
		return 0;
	err = live_cookies(&s);
	if (err) {
		seen_free(&s);
		return err;
	}
	n = scan_root(TCPF_PIN_ROOT, &s, out, 0, max);
	n = scan_root(TCPF_RUN_ROOT, &s, out, n, max);
	seen_free(&s);
	return n;
}

int stale_remove(const char *name)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err;

	snprintf(dir, sizeof(dir), "%s/%s", TCPF_PIN_ROOT, name);
	err = pins_remove_ns(dir);
	if (err)
		return err;
	/* the saved rule sources (the lock's file goes with its unlock) */
	snprintf(dir, sizeof(dir), "%s/%s", TCPF_RUN_ROOT, name);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char path[PATH_MAX + 300];

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path))
			pr_warn("cannot remove %s: %s", path, strerror(errno));
	}
	if (d)
		closedir(d);
	return 0;
}
