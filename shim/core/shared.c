/* SPDX-License-Identifier: MIT */
/* The shared file's reads that `hostup status`/`metrics` and the library
 * both need: who holds a lease, the budget window, the waiters (see
 * shared.h; where the file lives and how it is opened: shared_file.c). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared.h"
#include "sys/readfile.h"
#include "sys/sysio.h"

const char *const hu_giveup_names[HU_GU_ALL] = {"attempts", "deadline", "budget", "error",
                                                 "no_network"};
const unsigned hu_shm_hist_ms[HU_SHM_HIST - 1] = {50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};

int64_t hu_shm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hu_shm_alive(int32_t pid, int32_t tid)
{
    if (pid <= 0)
        return 0;
    int saved = errno;
    long rc = tid > 0 ? syscall(SYS_tgkill, pid, tid, 0) : kill(pid, 0);
    int alive = rc == 0 || errno != ESRCH;
    errno = saved;
    return alive;
}

uint64_t hu_shm_start_time(int32_t pid)
{
    char path[64], buf[1024];
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int saved = errno;
    ssize_t n = hu_read_file(path, 0, buf, sizeof buf, NULL);
    errno = saved;
    /* the name (field 2) may hold spaces and parentheses: count from the
     * last ')'; field 22 is the 20th after it */
    const char *p = n > 0 ? strrchr(buf, ')') : NULL;
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

int hu_shm_lease_alive(const struct hu_shm_slot *s, int64_t now, uint64_t pidns)
{
    int32_t tid = __atomic_load_n(&s->lease_tid, __ATOMIC_ACQUIRE);
    int64_t until = __atomic_load_n(&s->lease_until, __ATOMIC_RELAXED);
    if (!tid || now > until || until - now > HU_LEASE_MAX_MS ||
        now - __atomic_load_n(&s->last_probe, __ATOMIC_RELAXED) > HU_LEASE_MAX_MS)
        return 0;
    /* a pid of another pid namespace says nothing here: only the lease's
     * expiry counts for it */
    if (__atomic_load_n(&s->lease_pidns, __ATOMIC_RELAXED) != pidns)
        return 1;
    int32_t pid = __atomic_load_n(&s->lease_pid, __ATOMIC_RELAXED);
    if (!hu_shm_alive(pid, tid))
        return 0;
    uint64_t start = __atomic_load_n(&s->lease_start, __ATOMIC_RELAXED), now_start;
    return !start || !(now_start = hu_shm_start_time(pid)) || now_start == start;
}

void hu_shm_window(const struct hu_shm *m, int64_t sec, uint64_t *first, uint64_t *retries)
{
    *first = *retries = 0;
    for (int i = 0; i < HU_SHM_WINDOW; i++) {
        const struct hu_shm_bucket *b = &m->budget[i];
        int64_t s = __atomic_load_n(&b->sec, __ATOMIC_ACQUIRE);
        if (s > sec - HU_SHM_WINDOW && s <= sec) {
            *first += __atomic_load_n(&b->first, __ATOMIC_RELAXED);
            *retries += __atomic_load_n(&b->retries, __ATOMIC_RELAXED);
        }
    }
}

long hu_shm_budget_left(const struct hu_shm *m, int64_t now_ms, int pct, unsigned min_per_s)
{
    if (pct < 0)
        return -1;
    uint64_t first, retries;
    hu_shm_window(m, now_ms / 1000, &first, &retries);
    uint64_t allowed = first * (uint64_t)pct / 100 + (uint64_t)min_per_s * HU_SHM_WINDOW;
    return retries >= allowed ? 0 : (long)(allowed - retries);
}

void hu_shm_waiting(const struct hu_shm *m, unsigned slot, unsigned *threads, unsigned *procs)
{
    int32_t seen[HU_SHM_WAITERS] = {0};   /* 8 KiB: the CLI calls this, never the library */
    unsigned nseen = 0;
    *threads = *procs = 0;
    for (unsigned i = 0; i < HU_SHM_WAITERS; i++) {
        const struct hu_shm_waiter *w = &m->waiters[i];
        int32_t tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE), pid = w->pid;
        if (!tid || w->slot != slot || !hu_shm_alive(pid, tid))
            continue;
        (*threads)++;
        unsigned k = 0;
        while (k < nseen && seen[k] != pid)
            k++;
        if (k == nseen) {
            (*procs)++;
            if (nseen < sizeof seen / sizeof seen[0])
                seen[nseen++] = pid;
        }
    }
}

void hu_shm_target(const struct hu_shm_slot *s, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (s->family == AF_INET6) {
        inet_ntop(AF_INET6, s->addr, a, sizeof a);
        snprintf(buf, len, "[%s]:%u", a, s->port);
    } else {
        inet_ntop(AF_INET, s->addr, a, sizeof a);
        snprintf(buf, len, "%s:%u", a, s->port);
    }
}
