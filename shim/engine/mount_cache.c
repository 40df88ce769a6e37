/* SPDX-License-Identifier: MIT */
/* The mount cache of the network-volume code (volume.c): the table of
 * /proc/self/mountinfo, read at the first file call and again only when
 * something shows it changed, and the mounts as records show them
 * (interned, never freed). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "core/mounts.h"
#include "mount_cache.h"
#include "sys/real.h"
#include "retry.h"
#include "sys/readfile.h"
#include "volume.h"

HU_FORK_STATE static pthread_mutex_t mnt_lock = PTHREAD_MUTEX_INITIALIZER;
static hu_mounts *snap;
static int64_t snap_ms;
static hu_mountdesc *descs;
#define UNKNOWN_DEVS 32
static dev_t unknown_devs[UNKNOWN_DEVS];   /* not in the table even after a rescan */
static unsigned n_unknown;

/* The whole table: a buffer that grows until the file fits (each try a
 * fresh read; the table is re-read at every change anyway). */
static hu_mounts *read_mountinfo(void)
{
    for (size_t cap = 16384; cap <= ((size_t)64 << 20); cap *= 2) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        hu_readfile_info info;
        ssize_t n = hu_read_file("/proc/self/mountinfo", 0, buf, cap, &info);
        hu_mounts *t = n >= 0 && !info.truncated ? hu_mounts_parse(buf, (size_t)n) : NULL;
        free(buf);
        if (n < 0 || !info.truncated)
            return t;
    }
    return NULL;
}

/* A reread may show a device number given to another mount since. */
static void forget_local_locked(void)
{
    for (int i = 0; i < HU_LOCAL_DEVS; i++)
        __atomic_store_n(&hu_vol_local_devs[i], 0, __ATOMIC_RELAXED);
}

void hu_mnt_note_local(dev_t dev)
{
    pthread_mutex_lock(&mnt_lock);
    for (int i = 0; i < HU_LOCAL_DEVS; i++) {
        dev_t d = __atomic_load_n(&hu_vol_local_devs[i], __ATOMIC_RELAXED);
        if (d == dev)
            break;
        if (!d) {
            __atomic_store_n(&hu_vol_local_devs[i], dev, __ATOMIC_RELAXED);
            break;
        }
    }
    pthread_mutex_unlock(&mnt_lock);
}

static void rescan_locked(void)
{
    hu_mounts *t = read_mountinfo();
    if (!t)
        return;
    forget_local_locked();
    hu_mounts_free(snap);
    snap = t;
    snap_ms = hu_now_ms();
    if (t->any_network && __atomic_load_n(&hu_vol_gate, __ATOMIC_RELAXED) == 0)
        __atomic_store_n(&hu_vol_gate, 1, __ATOMIC_RELEASE);
}

static const hu_mountdesc *intern_locked(const hu_mount *m)
{
    for (hu_mountdesc *d = descs; d; d = d->next)
        if (d->major == m->major && d->minor == m->minor && !strcmp(d->point, m->point) &&
            !strcmp(d->fstype, m->fstype) && !strcmp(d->source, m->source) &&
            !strcmp(d->options, m->options))
            return d;
    size_t lp = strlen(m->point) + 1, lf = strlen(m->fstype) + 1, ls = strlen(m->source) + 1,
           lo = strlen(m->options) + 1;
    hu_mountdesc *d = malloc(sizeof *d + lp + lf + ls + lo);
    if (!d)
        return NULL;
    char *s = (char *)(d + 1);
    d->major = m->major;
    d->minor = m->minor;
    d->network = m->network;
    d->point = memcpy(s, m->point, lp);
    d->fstype = memcpy(s + lp, m->fstype, lf);
    d->source = memcpy(s + lp + lf, m->source, ls);
    d->options = memcpy(s + lp + lf + ls, m->options, lo);
    d->next = descs;
    descs = d;
    return d;
}

const hu_mountdesc *hu_mnt_for_dev(dev_t dev)
{
    unsigned ma = major(dev), mi = minor(dev);
    pthread_mutex_lock(&mnt_lock);
    if (!snap)
        rescan_locked();
    const hu_mount *m = snap ? hu_mounts_by_dev(snap, ma, mi) : NULL;
    if (!m) {
        int seen = 0;
        for (unsigned i = 0; i < n_unknown && i < UNKNOWN_DEVS; i++)
            seen |= unknown_devs[i] == dev;
        if (!seen) {        /* a device we never saw: the table changed */
            rescan_locked();
            m = snap ? hu_mounts_by_dev(snap, ma, mi) : NULL;
            if (!m)         /* btrfs subvolumes, overlay files: not listed */
                unknown_devs[n_unknown++ % UNKNOWN_DEVS] = dev;
        }
    }
    const hu_mountdesc *d = m ? intern_locked(m) : NULL;
    pthread_mutex_unlock(&mnt_lock);
    return d;
}

const hu_mountdesc *hu_mnt_for_path(const char *abs)
{
    pthread_mutex_lock(&mnt_lock);
    if (!snap || hu_now_ms() - snap_ms >= 1000)   /* failure path only */
        rescan_locked();
    const hu_mount *m = snap ? hu_mounts_by_path(snap, abs) : NULL;
    const hu_mountdesc *d = m ? intern_locked(m) : NULL;
    pthread_mutex_unlock(&mnt_lock);
    return d;
}

void hu_mnt_first_scan(int gate)
{
    pthread_mutex_lock(&mnt_lock);
    __atomic_store_n(&hu_vol_gate, gate, __ATOMIC_RELAXED);
    rescan_locked();        /* the one read at start; raises the gate */
    pthread_mutex_unlock(&mnt_lock);
}

HU_FORK_CODE void hu_mnt_atfork_prepare(void) { pthread_mutex_lock(&mnt_lock); }
HU_FORK_CODE void hu_mnt_atfork_parent(void) { pthread_mutex_unlock(&mnt_lock); }
HU_FORK_CODE void hu_mnt_atfork_child(void) { HU_MUTEX_RESET(&mnt_lock); }
