/* SPDX-License-Identifier: MIT */
/* Network volumes inside the library: which opens are tracked (their
 * mounts: mount_cache.c), reopening after a stale handle, and the retry
 * loop shared by the open, stat, read and stdio wrappers. */
#ifndef HOSTUP_VOLUME_H
#define HOSTUP_VOLUME_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "core/mounts.h"
#include "fdtable.h"
#include "sys/sysio.h"
#include "hostup/backoff.h"
#include "decide.h"
#include "hostup/policy.h"

/* A mount as the records show it; interned, never freed. */
typedef struct hu_mountdesc {
    struct hu_mountdesc *next;
    unsigned major, minor;
    int network;
    const char *point, *fstype, *source, *options;
} hu_mountdesc;

#define HU_FILE_FDS 8

/* A regular file opened on a network volume (or under a path rule). */
typedef struct hu_file {
    int refs;                   /* fd entries and recoveries holding it */
    int nfds, fds[HU_FILE_FDS]; /* fds sharing its open file description */
    pthread_mutex_t mu;         /* one reopen at a time */
    int flags;                  /* as opened */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    const hu_rule *rule;
    const hu_mountdesc *mnt;    /* NULL: path rule on an unknown mount */
    unsigned reopens;
    struct hu_file *next, *prev;/* every live file, for fork */
    int pooled;
    char path[PATH_MAX];        /* absolute, as the kernel names it */
} hu_file;

/* One call's retry state. */
typedef struct hu_vol_try {
    const char *op;
    const hu_rule *rule;
    hu_file *file;              /* held; NULL for path calls */
    const hu_mountdesc *mnt;
    const char *path;
    int fd;                     /* -1 for path calls */
    long long offset;           /* -1: none */
    hu_attempt a;               /* the retry decision's state (decide.h) */
    int stale;                  /* the fd still holds the stale handle */
    int begun;
    char pathbuf[PATH_MAX];
} hu_vol_try;

/* -1 until the first file call, then 1 when opens must be examined
 * (a network mount exists, or a path rule), else 0. */
extern int hu_vol_gate __attribute__((visibility("hidden")));
/* Union of the errnos any volume rule retries: a quick reject. */
extern uint64_t hu_vol_errnos[HU_ERRNO_MAX / 64] __attribute__((visibility("hidden")));

void hu_vol_init(void) __attribute__((visibility("hidden")));

/* Devices whose files are never tracked (local file systems, and the ones
 * the mount table does not list), learnt by hu_vol_opened and forgotten
 * at every reread of the table (mount_cache.c); 0 = free.  No path rule
 * that is not off: hu_vol_no_path_rules. */
#define HU_LOCAL_DEVS 8
extern dev_t hu_vol_local_devs[HU_LOCAL_DEVS] __attribute__((visibility("hidden")));
extern int hu_vol_no_path_rules __attribute__((visibility("hidden")));

/* The open wrappers' fast path while hu_vol_gate is 1: whether fd, just
 * opened, is surely not to be tracked, by one fstat: not a regular file,
 * or on a device seen to be local, while no path rule exists (a rule
 * needs the path) and fd's number holds no tracked file.  Decided by the
 * fd, not the path: a relative path, a dirfd or a symlink into a network
 * mount all end on the network mount's device.  0: ask hu_vol_opened. */
static inline int hu_vol_open_untracked(int fd)
{
    struct stat st;
    if (!__atomic_load_n(&hu_vol_no_path_rules, __ATOMIC_RELAXED) || hu_fd_maybe_file(fd) ||
        hu_sys_fstat(fd, &st) < 0)
        return 0;
    if (!S_ISREG(st.st_mode))
        return 1;
    for (int i = 0; i < HU_LOCAL_DEVS; i++) {
        dev_t d = __atomic_load_n(&hu_vol_local_devs[i], __ATOMIC_RELAXED);
        if (d == st.st_dev && d)
            return 1;
        if (!d)
            return 0;
    }
    return 0;
}
static inline int hu_vol_errno_maybe(int err)
{
    return err > 0 && err < HU_ERRNO_MAX && ((hu_vol_errnos[err / 64] >> (err % 64)) & 1);
}

/* After a successful open of fd: track it when it is on a network volume.
 * Call only when hu_vol_gate != 0; preserves errno. */
void hu_vol_opened(int fd, int flags, int dirfd, const char *path) __attribute__((visibility("hidden")));

/* Whether err on a volume call is retried: the rule's errnos; and an EIO
 * that a soft NFS mount gives for a server that did not answer counts as
 * the ETIMEDOUT softerr would give, while the failed try lasted at least
 * one timeo: a server's own EIO (its disk) comes back within a round trip
 * (docs/nfs.md).  The first failure is not timed (nothing is on the fast
 * path): attempt 1 always gets its retry; a fast EIO after that is the
 * program's. */
static inline int hu_vol_retries(const hu_rule *r, const hu_mountdesc *m, unsigned attempt,
                                 int64_t try_ms, int err)
{
    long timeo = err == EIO && m ? hu_mount_soft_nfs_timeo_ms(m->fstype, m->options) : -1;
    return hu_rule_retries_errno(r, err) ||
           (timeo >= 0 && (attempt <= 1 || try_ms >= timeo) && hu_rule_retries_errno(r, ETIMEDOUT));
}

/* Start a recovery.  Path calls (open, stat): 1 when the path is on a
 * network volume or under a path rule that retries err.  fd calls: 1 when
 * fd is tracked (it is held until hu_vol_end).  offset -1: the fd's own. */
int hu_vol_path_begin(hu_vol_try *t, const char *op, int dirfd, const char *path, int err)
    __attribute__((visibility("hidden")));
int hu_vol_fd_begin(hu_vol_try *t, const char *op, int fd, long long offset, int err)
    __attribute__((visibility("hidden")));
/* A try failed with err: 0 = try again now (after the wait, or after the
 * reopen for ESTALE), -1 = hand the failure to the program (errno set). */
int hu_vol_step(hu_vol_try *t, int err) __attribute__((visibility("hidden")));
/* The try after a failure succeeded. */
void hu_vol_success(hu_vol_try *t) __attribute__((visibility("hidden")));
/* The whole retry of a call that failed with err: hu_vol_step, then
 * again(ctx) (the call once more: 0 on success, else -1 with errno),
 * until it succeeds (0, recovered record) or the failure goes to the
 * program (-1, errno set). */
int hu_vol_retry(hu_vol_try *t, int err, int (*again)(void *ctx), void *ctx)
    __attribute__((visibility("hidden")));
void hu_vol_end(hu_vol_try *t) __attribute__((visibility("hidden")));

/* fd table bookkeeping; call with hu_table_lock held. */
void hu_vol_forget_fd(int fd) __attribute__((visibility("hidden")));
void hu_vol_dup(int fd, int fd2) __attribute__((visibility("hidden")));
/* The same, taking the lock. */
void hu_vol_forget(int fd) __attribute__((visibility("hidden")));

void hu_vol_atfork_prepare(void) __attribute__((visibility("hidden")));
void hu_vol_atfork_parent(void) __attribute__((visibility("hidden")));
void hu_vol_atfork_child(void) __attribute__((visibility("hidden")));

#endif
