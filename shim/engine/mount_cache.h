/* SPDX-License-Identifier: MIT */
/* The mount cache (mount_cache.c): which mount a file or a path is on. */
#ifndef HOSTUP_ENGINE_MOUNT_CACHE_H
#define HOSTUP_ENGINE_MOUNT_CACHE_H

#include <sys/types.h>

#include "sys/real.h"
#include "volume.h"

/* The mount of a device; a device never seen before rereads the table.
 * NULL when not listed (btrfs subvolumes, overlay files). */
const hu_mountdesc *hu_mnt_for_dev(dev_t dev) HU_HIDDEN;
/* The mount a path is under; the table reread when a second old (a
 * failing path call: the failure path only). */
const hu_mountdesc *hu_mnt_for_path(const char *abs) HU_HIDDEN;
/* The first read, at hu_vol_init: hu_vol_gate set to gate, then raised by
 * the read when it finds a network mount. */
void hu_mnt_first_scan(int gate) HU_HIDDEN;
/* dev holds no tracked file (hu_vol_local_devs, volume.h) until the next
 * reread of the table. */
void hu_mnt_note_local(dev_t dev) HU_HIDDEN;
void hu_mnt_atfork_prepare(void) HU_HIDDEN;
void hu_mnt_atfork_parent(void) HU_HIDDEN;
void hu_mnt_atfork_child(void) HU_HIDDEN;

#endif
