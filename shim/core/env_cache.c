/* SPDX-License-Identifier: MIT */
/* The cache of the whole environment (environment.h) that records read:
 * the files (environment.c) and the live networks (env_net.c), read again
 * every HU_ENV_TTL_MS, and shared by the threads of a process. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "environment.h"

extern char **environ;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the cache ------------------------------------------------------------ */

/* Two slots: a refresh writes the one readers are not pointed at, then
 * publishes it.  Each slot has a sequence number (odd while written) so a
 * reader that raced a write retries.  The refresher is recorded by pid, so
 * a child forked in the middle of a refresh takes the job over instead of
 * waiting for a thread that does not exist in it. */
#ifndef HU_ENV_TTL_MS
#define HU_ENV_TTL_MS 10000
#endif

static hu_env slot[2];
static unsigned slot_seq[2];
static int64_t slot_at[2];
static int slot_cur = -1;
static pid_t refresher;

static int copy_slot(int i, hu_env *out)
{
    unsigned s1 = __atomic_load_n(&slot_seq[i], __ATOMIC_ACQUIRE);
    if (s1 & 1)
        return 0;
    memcpy(out, &slot[i], sizeof *out);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&slot_seq[i], __ATOMIC_RELAXED) == s1;
}

static int become_refresher(pid_t me)
{
    pid_t owner = __atomic_load_n(&refresher, __ATOMIC_ACQUIRE);
    if (owner == me)
        return 0;                   /* another thread of ours is at it */
    return __atomic_compare_exchange_n(&refresher, &owner, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void read_now(hu_env *out)
{
    hu_env_read("", environ, out);
    hu_env_read_net(out);
}

void hu_env_current(hu_env *out)
{
    for (int tries = 0; tries < 4; tries++) {
        int64_t now = mono_ms();
        int i = __atomic_load_n(&slot_cur, __ATOMIC_ACQUIRE);
        int fresh = i >= 0 && now - __atomic_load_n(&slot_at[i], __ATOMIC_ACQUIRE) < HU_ENV_TTL_MS;
        if (fresh && copy_slot(i, out))
            return;
        if (fresh)
            continue;               /* raced a writer two refreshes ahead: look again */
        pid_t me = getpid();
        if (!become_refresher(me)) {
            if (i >= 0 && copy_slot(i, out))
                return;             /* stale by a little; the refresher is on it */
            break;
        }
        int j = i < 0 ? 0 : 1 - i;
        hu_env fresh_env;
        read_now(&fresh_env);       /* the slow part, outside the slot */
        unsigned s = (__atomic_load_n(&slot_seq[j], __ATOMIC_RELAXED) | 1u) + 2;
        __atomic_store_n(&slot_seq[j], s, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        memcpy(&slot[j], &fresh_env, sizeof fresh_env);
        __atomic_store_n(&slot_seq[j], s + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&slot_at[j], mono_ms(), __ATOMIC_RELEASE);
        __atomic_store_n(&slot_cur, j, __ATOMIC_RELEASE);
        __atomic_store_n(&refresher, 0, __ATOMIC_RELEASE);
        *out = fresh_env;
        return;
    }
    read_now(out);                  /* nothing cached we could use: our own read */
}
