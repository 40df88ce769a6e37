/* SPDX-License-Identifier: MIT */
/* Herd control's retry budget (see herd.h): first tries are counted in a
 * process-local counter and reach the file's 10 s window at most once a
 * second; retries are charged to it, and refused once they exceed the
 * rule's share. */
#define _GNU_SOURCE
#include <stdint.h>

#include "herd.h"

static struct hu_shm_bucket *bucket(struct hu_shm *m, int64_t sec)
{
    struct hu_shm_bucket *b = &m->budget[sec % HU_SHM_WINDOW];
    int64_t old = __atomic_load_n(&b->sec, __ATOMIC_ACQUIRE);
    /* the first process into a new second clears it; counts added by a
     * racing process in between are lost, which only loosens the budget */
    if (old != sec && old < sec && __atomic_compare_exchange_n(&b->sec, &old, sec, 0,
                                                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&b->first, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->retries, 0, __ATOMIC_RELAXED);
    }
    return __atomic_load_n(&b->sec, __ATOMIC_ACQUIRE) == sec ? b : NULL;
}

void hu_herd_flush(int64_t now)
{
    struct hu_shm *m = __atomic_load_n(&hu_shm_map, __ATOMIC_ACQUIRE);
    __atomic_store_n(&hu_herd_flush_at, now + 1000, __ATOMIC_RELAXED);
    uint32_t n = __atomic_exchange_n(&hu_herd_pending, 0, __ATOMIC_RELAXED);
    struct hu_shm_bucket *b = m && n ? bucket(m, now / 1000) : NULL;
    if (b)
        __atomic_add_fetch(&b->first, n, __ATOMIC_RELAXED);
}

int hu_herd_budget(const hu_rule *r, int64_t now)
{
    struct hu_shm *m = __atomic_load_n(&hu_shm_map, __ATOMIC_ACQUIRE);
    if (!m || r->budget_pct < 0)
        return 1;
    hu_herd_flush(now);
    if (hu_shm_budget_left(m, now, r->budget_pct, r->budget_min) <= 0) {
        __atomic_add_fetch(&m->budget_refused, 1, __ATOMIC_RELAXED);
        return 0;
    }
    struct hu_shm_bucket *b = bucket(m, now / 1000);
    if (b)
        __atomic_add_fetch(&b->retries, 1, __ATOMIC_RELAXED);
    return 1;
}

