// SPDX-License-Identifier: GPL-2.0-only
/* maps.c - the registry of pinned maps (maps.h) and what is done by it. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "maps.h"
#include "pins.h"

#define TCPF_MAP_ROW(id, name, scope, reset, type, key, value, entries) \
	[TCPF_MAP_##id] = { "tcpf_" #name, MAP_##scope, reset,	\
			    BPF_MAP_TYPE_##type, sizeof(key),		\
			    sizeof(value), entries },
const struct map_def map_defs[TCPF_NMAPS] = { TCPF_MAP_TABLE(TCPF_MAP_ROW) };
#undef TCPF_MAP_ROW

int map_pin_dir(enum map_id id, const char *ifname, char *buf, size_t size)
{
	if (map_defs[id].scope == MAP_NS)
		return pins_ns_dir(buf, size);
	return pins_iface_dir(ifname, buf, size);
}

int map_pin_path(enum map_id id, const char *ifname, char *buf, size_t size)
{
	char dir[PATH_MAX];
	int err = map_pin_dir(id, ifname, dir, sizeof(dir));

	if (err)
		return err;
	if ((size_t)snprintf(buf, size, "%s/%s", dir, map_defs[id].name) >=
	    size)
		return -ENAMETOOLONG;
	return 0;
}

/* Maps of a new layout an upgrade has made but not pinned yet: (map,
 * interface) -> fd; a per-namespace map's interface does not matter. */
static struct {
	enum map_id id;
	char ifname[IF_NAMESIZE];
	int fd;
} staged[64];
static int nstaged;

static int staged_fd(enum map_id id, const char *ifname)
{
	for (int i = 0; i < nstaged; i++)
		if (staged[i].id == id &&
		    (map_defs[id].scope == MAP_NS ||
		     !strcmp(staged[i].ifname, ifname ? ifname : "")))
			return staged[i].fd;
	return -1;
}

void map_stage(enum map_id id, const char *ifname, int fd)
{
	for (int i = 0; i < nstaged; i++)
		if (staged[i].id == id &&
		    !strcmp(staged[i].ifname, ifname ? ifname : "")) {
			staged[i] = staged[--nstaged];
			break;
		}
	if (fd < 0 || nstaged == (int)(sizeof(staged) / sizeof(staged[0])))
		return;
	staged[nstaged].id = id;
	snprintf(staged[nstaged].ifname, IF_NAMESIZE, "%s", ifname ? ifname : "");
	staged[nstaged++].fd = fd;
}

int map_open(enum map_id id, const char *ifname, bool ro, int *fd)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts,
		    .file_flags = ro ? BPF_F_RDONLY : 0);
	char path[PATH_MAX];
	int err = map_pin_path(id, ifname, path, sizeof(path));

	*fd = -1;
	if (err)
		return err;
	if (staged_fd(id, ifname) >= 0) {
		*fd = dup(staged_fd(id, ifname));
		return *fd < 0 ? -errno : 0;
	}
	*fd = bpf_obj_get_opts(path, &opts);
	return *fd < 0 ? -errno : 0;
}

static int map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

__u32 map_pinned_entries(enum map_id id, const char *ifname)
{
	struct bpf_map_info info;
	int fd;

	if (map_open(id, ifname, true, &fd))
		return 0;
	if (map_info(fd, &info))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

static bool percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int map_zero(int fd)
{
	struct bpf_map_info info;
	int ncpu = 1, err = map_info(fd, &info);
	size_t vsize;
	void *zero;

	if (err)
		return err;
	if (percpu(info.type)) {
		ncpu = libbpf_num_possible_cpus();
		if (ncpu < 0)
			return ncpu;
	}
	/* the kernel copies per-CPU values in 8-byte strides */
	vsize = percpu(info.type) ? (info.value_size + 7) / 8 * 8
				  : info.value_size;
	zero = calloc((size_t)ncpu, vsize);
	if (!zero)
		return -ENOMEM;
	for (__u32 key = 0; key < info.max_entries && !err; key++)
		if (bpf_map_update_elem(fd, &key, zero, BPF_ANY))
			err = -errno;
	free(zero);
	return err;
}

int maps_reset(const char *ifname)
{
	int fd, err = 0, found = 0;

	for (int id = 0; id < TCPF_NMAPS && !err; id++) {
		if (!map_defs[id].reset)
			continue;
		err = map_open(id, ifname, false, &fd);
		if (err == -ENOENT) {
			err = 0;
			continue;
		}
		if (!err) {
			found++;
			err = map_zero(fd);
			close(fd);
		}
	}
	return err ? err : found ? 0 : -ENOENT;
}

static const struct map_def *def_of(const char *name)
{
	for (int id = 0; id < TCPF_NMAPS; id++)
		if (!strcmp(map_defs[id].name, name))
			return &map_defs[id];
	return NULL;
}

/* Does a map of this type, key, value and entries fit row d? */
static bool layout_fits(const struct map_def *d, __u32 type, __u32 key,
			__u32 value, __u32 entries)
{
	return type == d->type && key == d->key_size &&
	       value == d->value_size &&
	       (d->max_entries == SIZED || entries == d->max_entries);
}

int maps_check_obj(struct bpf_object *obj, char *why, size_t size)
{
	const struct bpf_map *map;
	int seen = 0;

	bpf_object__for_each_map(map, obj) {
		const char *name = bpf_map__name(map);
		const struct map_def *d = def_of(name);

		if (!bpf_map__pin_path(map) && !d)
			continue;	/* .rodata, .bss: not pinned */
		if (!d || !bpf_map__pin_path(map)) {
			snprintf(why, size, "map %s is %s", name,
				 d ? "not pinned" : "pinned but not registered");
			return -EPROTO;
		}
		if (!layout_fits(d, bpf_map__type(map),
				 bpf_map__key_size(map),
				 bpf_map__value_size(map),
				 bpf_map__max_entries(map))) {
			snprintf(why, size, "map %s differs from its row", name);
			return -EPROTO;
		}
		seen++;
	}
	if (seen != TCPF_NMAPS) {
		snprintf(why, size, "%d registered maps missing from the object",
			 TCPF_NMAPS - seen);
		return -EPROTO;
	}
	return 0;
}

int maps_set_pins(struct bpf_object *obj, const char *ifname)
{
	char path[PATH_MAX];

	for (int id = 0; id < TCPF_NMAPS; id++) {
		struct bpf_map *map =
			bpf_object__find_map_by_name(obj, map_defs[id].name);
		int err = map_pin_path(id, ifname, path, sizeof(path));

		if (err)
			return err;
		if (!map || bpf_map__set_pin_path(map, path))
			return -EINVAL;
	}
	return 0;
}

int maps_check_pins(const char *ifname, char *why, size_t size)
{
	struct tcpf_meta meta = { .abi = TCPF_ABI_VERSION };
	int fd;

	if (map_open(TCPF_MAP_META, ifname, true, &fd))
		return 0;
	meta_read(fd, &meta);
	close(fd);
	/* a meta never recorded (its attach failed late) has no ABI yet */
	if (meta.abi == TCPF_ABI_VERSION || !meta.prog_id)
		return 0;
	snprintf(why, size, "its pins are of map ABI %u (this tcpflags: %d)",
		 meta.abi, TCPF_ABI_VERSION);
	return -EPROTO;
}
