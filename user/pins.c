// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include "crashpoint.h"
#include "log.h"
#include "pins.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int bpffs_ensure(void)
{
	if (is_bpffs(TCPF_BPFFS))
		return 0;
	if (mkdir(TCPF_BPFFS, 0700) && errno != EEXIST) {
		int err = -errno;

		pr_warn("bpffs is not mounted and %s cannot be made: %s",
			TCPF_BPFFS, strerror(-err));
		return err;
	}
	if (mount("bpf", TCPF_BPFFS, "bpf", 0, "mode=0700")) {
		int err = -errno;

		pr_warn("bpffs is not mounted on %s and mounting it failed: %s",
			TCPF_BPFFS, strerror(-err));
		return err;
	}
	pr_debug("mounted bpffs on %s", TCPF_BPFFS);
	return 0;
}

/* A name the kernel could give an interface: also safe as a path part. */
static int iface_name_ok(const char *ifname)
{
	return ifname && *ifname && strlen(ifname) < IF_NAMESIZE &&
	       !strchr(ifname, '/') && strcmp(ifname, ".") &&
	       strcmp(ifname, "..");
}

int iface_lookup(const char *ifname, unsigned int *ifindex)
{
	if (!iface_name_ok(ifname)) {
		pr_warn("invalid interface name '%s'", ifname ? ifname : "");
		return -EINVAL;
	}
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex) {
		pr_warn("cannot find interface %s: no such interface", ifname);
		return -ENODEV;
	}
	return 0;
}

int pins_netns_id(unsigned long long *id)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	struct stat st;
	int fd, err;

	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd >= 0) {
		err = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
		close(fd);
		if (!err) {
			*id = cookie;
			return 0;
		}
	}
	if (stat("/proc/self/ns/net", &st)) {
		err = -errno;
		pr_warn("cannot identify the network namespace: %s",
			strerror(-err));
		return err;
	}
	*id = st.st_ino;
	return 0;
}

int pins_ns_dir(char *buf, size_t size)
{
	unsigned long long id = 0;
	int err = pins_netns_id(&id);

	if (err)
		return err;
	if ((size_t)snprintf(buf, size, "%s/ns%llu", TCPF_PIN_ROOT, id) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int pins_run_dir(char *buf, size_t size, int make)
{
	char ns[PATH_MAX];
	int err = pins_ns_dir(ns, sizeof(ns));

	if (err)
		return err;
	if ((size_t)snprintf(buf, size, "%s%s", TCPF_RUN_ROOT,
			     strrchr(ns, '/')) >= size)
		return -ENAMETOOLONG;
	if (!make)
		return 0;
	if (mkdir(TCPF_RUN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int pins_iface_dir(const char *ifname, char *buf, size_t size)
{
	char ns[PATH_MAX];
	int err;

	if (!iface_name_ok(ifname)) {
		pr_warn("invalid interface name '%s'", ifname ? ifname : "");
		return -EINVAL;
	}
	err = pins_ns_dir(ns, sizeof(ns));

	if (err)
		return err;
	if ((size_t)snprintf(buf, size, "%s/%s", ns, ifname) >= size)
		return -ENAMETOOLONG;
	return 0;
}

int pins_ifaces(char (*names)[IF_NAMESIZE], int max)
{
	char dir[PATH_MAX];
	struct dirent **de;
	int n, count = 0, err = pins_ns_dir(dir, sizeof(dir));

	if (err)
		return err;
	n = scandir(dir, &de, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		/* interfaces are directories; the shared flow maps are files */
		if (de[i]->d_name[0] != '.' && de[i]->d_type == DT_DIR &&
		    strlen(de[i]->d_name) < IF_NAMESIZE && count < max)
			snprintf(names[count++], IF_NAMESIZE, "%s",
				 de[i]->d_name);
		free(de[i]);
	}
	free(de);
	return count;
}

/* fn on every entry of dir but . and ..; how many it returned non-zero
 * for, or -errno (a missing dir has none). */
static int each_entry(const char *dir,
		      int (*fn)(const char *path, bool is_dir, void *arg),
		      void *arg)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n += fn(path, stat(path, &st) == 0 && S_ISDIR(st.st_mode),
			arg) != 0;
	}
	closedir(d);
	return n;
}

static int is_subdir(const char *path, bool is_dir, void *arg)
{
	(void)path;
	(void)arg;
	return is_dir;
}

static int unpin(const char *path, bool is_dir, void *arg)
{
	(void)arg;
	if (is_dir)
		return 0;
	if (unlink(path))
		pr_warn("cannot remove pin %s: %s", path, strerror(errno));
	else
		crash_point("detach:pin");
	return 0;
}

/* A subdirectory's pins, then itself. */
static int unpin_subdir(const char *path, bool is_dir, void *arg)
{
	(void)arg;
	if (!is_dir)
		return 0;
	each_entry(path, unpin, NULL);
	if (rmdir(path) && errno != ENOENT)
		pr_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}

int pins_remove(const char *ifname)
{
	char dir[PATH_MAX];
	int err = pins_iface_dir(ifname, dir, sizeof(dir));

	if (err)
		return err;
	err = each_entry(dir, unpin, NULL);
	if (err < 0)
		return err;
	if (rmdir(dir) && errno != ENOENT)
		return -errno;
	/* the shared maps and the namespace directory go with the last one */
	if (pins_ns_dir(dir, sizeof(dir)) || each_entry(dir, is_subdir, NULL) != 0)
		return 0;
	each_entry(dir, unpin, NULL);
	rmdir(dir);
	return 0;
}

int pins_remove_ns(const char *nsdir)
{
	int err = each_entry(nsdir, unpin_subdir, NULL);

	if (err < 0)
		return err;
	each_entry(nsdir, unpin, NULL);
	if (rmdir(nsdir) && errno != ENOENT)
		return -errno;
	return 0;
}

int meta_read(int fd, struct tcpf_meta *meta)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, meta))
		return -errno;
	return 0;
}

int meta_write(int fd, const struct tcpf_meta *meta)
{
	__u32 key = 0;

	if (bpf_map_update_elem(fd, &key, meta, BPF_ANY))
		return -errno;
	return 0;
}
