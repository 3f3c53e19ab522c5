// SPDX-License-Identifier: GPL-2.0-only
/* privs.c - what a command needs, and who may read the pins (privs.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>
#include "log.h"
#include "pins.h"
#include "privs.h"

#define RUN_ROOT "/run/tcpflags"

static const struct {
	int cap;
	const char *name;
} cap_names[] = {
	{ CAP_SYS_ADMIN, "CAP_SYS_ADMIN" },
	{ CAP_NET_ADMIN, "CAP_NET_ADMIN" },
	{ CAP_BPF, "CAP_BPF" },
	{ CAP_PERFMON, "CAP_PERFMON" },
	{ CAP_CHOWN, "CAP_CHOWN" },
	{ CAP_FOWNER, "CAP_FOWNER" },
	{ CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE" },
	{ CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
};

const struct priv_need priv_read = { .pins = PINS_READ };
const struct priv_need priv_write = { .pins = PINS_WRITE };
const struct priv_need priv_load = {
	.caps = PRIV_CAP(CAP_SYS_ADMIN) | PRIV_CAP(CAP_NET_ADMIN),
	.pins = PINS_WRITE,
};
const struct priv_need priv_load_group = {
	.caps = PRIV_CAP(CAP_SYS_ADMIN) | PRIV_CAP(CAP_NET_ADMIN) |
		PRIV_CAP(CAP_CHOWN),
	.pins = PINS_WRITE,
};

#define NCAPS (sizeof(cap_names) / sizeof(cap_names[0]))

/* The effective capability set (0 when it cannot be read). */
static __u64 effective_caps(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &h, d))
		return 0;
	return (__u64)d[1].effective << 32 | d[0].effective;
}

/* "A, B and C" of the names of caps, then extra (if any), into buf. */
static void join(__u64 caps, const char *extra, char *buf, size_t size)
{
	const char *w[NCAPS + 1];
	size_t n = 0, len = 0;

	for (size_t i = 0; i < NCAPS; i++)
		if (caps & PRIV_CAP(cap_names[i].cap))
			w[n++] = cap_names[i].name;
	if (extra)
		w[n++] = extra;
	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					!i ? "" : i + 1 == n ? " and " : ", ",
					w[i]);
}

/* The directory of this namespace under RUN_ROOT (named as its pins'). */
static int run_ns_dir(char *buf, size_t size)
{
	char ns[PATH_MAX];
	int err = pins_ns_dir(ns, sizeof(ns));

	if (err)
		return err;
	if ((size_t)snprintf(buf, size, "%s%s", RUN_ROOT, strrchr(ns, '/')) >=
	    size)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * May the caller read (or write) dir?  Only a permission error says no:
 * reading a directory that is not there is allowed (nothing is attached);
 * writing needs the nearest existing parent, where it will be made.
 * Checked with the effective ids and capabilities, as the kernel checks
 * BPF_OBJ_GET.
 */
static bool dir_ok(const char *dir, enum pins_access how)
{
	char path[PATH_MAX], *slash;

	if (how == PINS_READ)
		return !faccessat(AT_FDCWD, dir, R_OK | X_OK, AT_EACCESS) ||
		       (errno != EACCES && errno != EPERM);
	if ((size_t)snprintf(path, sizeof(path), "%s", dir) >= sizeof(path))
		return false;
	while (faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) && errno == ENOENT &&
	       (slash = strrchr(path, '/')) && slash != path)
		*slash = '\0';
	/* a read-only file system is no missing privilege: the command
	 * says so itself */
	return !faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) ||
	       (errno != EACCES && errno != EPERM);
}

int priv_check(const char *cmd, const struct priv_need *need)
{
	char dirs[2][PATH_MAX], needs[512], missing[512];
	const char *denied = NULL, *how;
	__u64 lack = need->caps & ~effective_caps();

	if (need->pins != PINS_NONE && !pins_ns_dir(dirs[0], PATH_MAX) &&
	    !run_ns_dir(dirs[1], PATH_MAX)) {
		for (int i = 0; i < 2 && !denied; i++)
			if (!dir_ok(dirs[i], need->pins))
				denied = dirs[i];
	}
	if (!lack && !denied)
		return 0;
	how = need->pins == PINS_READ ?
	      "read access to the pins (root, CAP_DAC_READ_SEARCH, or their "
	      "group: see 'attach --group')" :
	      "write access to the pins (root or CAP_DAC_OVERRIDE)";
	join(need->caps, need->pins == PINS_NONE ? NULL : how, needs,
	     sizeof(needs));
	if (!lack) {
		pr_warn("%s needs %s: cannot %s %s: permission denied", cmd,
			needs, need->pins == PINS_READ ? "read" : "write",
			denied);
		return -EPERM;
	}
	join(lack, denied ? (need->pins == PINS_READ ? "read access" :
			     "write access") : NULL, missing, sizeof(missing));
	pr_warn("%s needs %s; missing %s: permission denied", cmd, needs,
		missing);
	return -EPERM;
}

gid_t priv_pins_group(void)
{
	char dir[PATH_MAX];
	struct stat st;

	if (pins_ns_dir(dir, sizeof(dir)) || stat(dir, &st) ||
	    !(st.st_mode & S_IRGRP))
		return 0;
	return st.st_gid;
}

int priv_group_parse(const char *name, gid_t *gid, char *why, size_t size)
{
	size_t len = strlen(name);
	struct group *g;

	if (len && len < 11 && strspn(name, "0123456789") == len) {
		unsigned long long v = strtoull(name, NULL, 10);

		if (v < (gid_t)-1) {
			*gid = (gid_t)v;
			return 0;
		}
	}
	/* cppcheck-suppress getgrnamCalled ; attach's check, one thread */
	g = len ? getgrnam(name) : NULL;
	if (!g) {
		snprintf(why, size, "no such group '%s'", name);
		return -EINVAL;
	}
	*gid = g->gr_gid;
	return 0;
}

/* path, and to depth levels below it, into group gid with its modes. */
static int protect_tree(const char *path, gid_t gid, int depth)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	mode_t mode;
	int err = 0;
	DIR *d;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return 0;	/* bpffs pins are regular files */
	mode = S_ISDIR(st.st_mode) ? (gid ? 0750 : 0700) : (gid ? 0640 : 0600);
	/* only what differs: changing another's file takes CAP_FOWNER; and
	 * without a group its owner alone has access, whatever its gid (root
	 * gives it back to gid 0, a writer with CAP_DAC_OVERRIDE cannot) */
	if (!gid && st.st_gid && chown(path, (uid_t)-1, 0))
		st.st_gid = 0;
	if ((gid && st.st_gid != gid && chown(path, (uid_t)-1, gid)) ||
	    ((st.st_mode & 07777) != mode && chmod(path, mode))) {
		err = -errno;
		pr_warn("cannot give %s to group %u: %s", path, (unsigned)gid,
			strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode) || depth == 0)
		return 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while (!err && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
				     de->d_name) < sizeof(sub))
			err = protect_tree(sub, gid, depth - 1);
	closedir(d);
	return err;
}

/* Does any namespace's pin directory other than skip have a group? */
static bool other_groups(const char *skip)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	bool any = false;
	DIR *d = opendir(TCPF_PIN_ROOT);

	while (d && !any && (de = readdir(d)))
		any = !strncmp(de->d_name, "ns", 2) &&
		      (size_t)snprintf(path, sizeof(path), "%s/%s",
				       TCPF_PIN_ROOT, de->d_name) <
		      sizeof(path) && strcmp(path, skip) &&
		      !stat(path, &st) && S_ISDIR(st.st_mode) &&
		      (st.st_mode & S_IRGRP) && st.st_gid;
	if (d)
		closedir(d);
	return any;
}

/* dir's mode, if dir is there. */
static int set_mode(const char *dir, mode_t mode)
{
	struct stat st;

	if (stat(dir, &st))
		return errno == ENOENT ? 0 : -errno;
	return (st.st_mode & 07777) != mode && chmod(dir, mode) ? -errno : 0;
}

/*
 * The roots above the namespaces: search only (no listing) while some
 * namespace's pins have a group (this one's is gid), else root's alone.
 * bpffs is often mounted mode=0700: a group needs its search bit too,
 * which is only ever added.
 */
static int reach_roots(const char *pins, gid_t gid)
{
	struct stat st;
	bool reach = gid || other_groups(pins);
	int err;

	err = set_mode(TCPF_PIN_ROOT, reach ? 0711 : 0700);
	if (!err)
		err = set_mode(RUN_ROOT, reach ? 0711 : 0700);
	if (!err && gid && !stat(TCPF_BPFFS, &st) && !(st.st_mode & S_IXOTH)) {
		err = set_mode(TCPF_BPFFS, (st.st_mode | S_IXOTH) & 07777);
		if (!err)
			pr_info("tcpflags: %s is now searchable by all (o+x): "
				"the pins' group must pass it", TCPF_BPFFS);
	}
	if (err)
		pr_warn("cannot let the pins' group reach them: %s",
			strerror(-err));
	return err;
}

int priv_protect_ns(gid_t gid)
{
	char pins[PATH_MAX], run[PATH_MAX];
	int err = pins_ns_dir(pins, sizeof(pins));

	if (!err)
		err = run_ns_dir(run, sizeof(run));
	if (err)
		return err;
	/* NS/ and NS/IFACE/ with their pins; the rule sources */
	err = protect_tree(pins, gid, 2);
	if (!err)
		err = protect_tree(run, gid, 1);
	return err ? err : reach_roots(pins, gid);
}

int priv_pins_gone(void)
{
	char pins[PATH_MAX];
	struct stat st;
	int err = pins_ns_dir(pins, sizeof(pins));

	if (err)
		return err;
	return reach_roots(pins, !stat(pins, &st) ? priv_pins_group() : 0);
}
