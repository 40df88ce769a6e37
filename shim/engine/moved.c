/* SPDX-License-Identifier: MIT */
/* Hosts that moved, remembered: see moved.h.  A small fixed table under a
 * lock; connect() looks only at hu_moved_live until some name has moved. */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "addrkey.h"
#include "moved.h"
#include "sys/real.h"

#define ENTRIES 16

struct entry {
    int64_t until;              /* 0: empty */
    unsigned char family;
    unsigned char old[16], to[16];
    uint32_t scope;             /* to's, for a link-local IPv6 address */
    int used;                   /* a connect went there (its record written) */
    char host[256];
};

unsigned hu_moved_live;
static struct entry table[ENTRIES];
HU_FORK_STATE static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void drop_locked(struct entry *e)
{
    e->until = 0;
    __atomic_store_n(&hu_moved_live, hu_moved_live - 1, __ATOMIC_RELAXED);
}

static void expire_locked(int64_t now)
{
    for (int i = 0; i < ENTRIES; i++)
        if (table[i].until && table[i].until <= now)
            drop_locked(&table[i]);
}

/* The entry for (family, old), a free one, or the one that ends first. */
static struct entry *slot_locked(unsigned char family, const unsigned char old[16])
{
    struct entry *pick = NULL;
    for (int i = 0; i < ENTRIES; i++) {
        struct entry *e = &table[i];
        if (e->until && e->family == family && memcmp(e->old, old, 16) == 0)
            return e;
        if (!pick || (pick->until && (!e->until || e->until < pick->until)))
            pick = e;
    }
    return pick;
}

void hu_moved_note(const char *host, const struct sockaddr *old, const struct sockaddr *to,
                   int64_t now)
{
    unsigned char f1, a1[16], f2, a2[16];
    size_t n = host ? strlen(host) : 0;
    if (!n || n >= sizeof table[0].host || hu_addr_key(old, &f1, a1) < 0 ||
        hu_addr_key(to, &f2, a2) < 0 || f1 != f2 || memcmp(a1, a2, 16) == 0)
        return;
    uint32_t scope = to->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)to)->sin6_scope_id : 0;
    pthread_mutex_lock(&lock);
    expire_locked(now);
    for (int i = 0; i < ENTRIES; i++) {   /* A moved to B, now B to C: A leads to C */
        struct entry *e = &table[i];
        if (!e->until || e->family != f1 || memcmp(e->to, a1, 16) != 0)
            continue;
        if (memcmp(e->old, a2, 16) == 0)
            drop_locked(e);     /* back where it was: nothing moved */
        else {
            memcpy(e->to, a2, 16);
            e->scope = scope;
        }
    }
    struct entry *e = slot_locked(f1, a1);
    if (!e->until)
        __atomic_store_n(&hu_moved_live, hu_moved_live + 1, __ATOMIC_RELAXED);
    e->until = now + HU_MOVED_MS;
    e->family = f1;
    memcpy(e->old, a1, 16);
    memcpy(e->to, a2, 16);
    e->scope = scope;
    e->used = 0;
    memcpy(e->host, host, n + 1);
    pthread_mutex_unlock(&lock);
}

void hu_moved_answer(const char *host, unsigned char family, const unsigned char addr[16],
                     int64_t now)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ENTRIES; i++) {
        struct entry *e = &table[i];
        if (!e->until || e->family != family)
            continue;
        if (memcmp(e->old, addr, 16) == 0)
            drop_locked(e);     /* a look-up gives the old address again */
        else if (memcmp(e->to, addr, 16) == 0 && host && strcmp(e->host, host) == 0 && e->until > now)
            e->until = now + HU_MOVED_MS;
    }
    pthread_mutex_unlock(&lock);
}

int hu_moved_find(const struct sockaddr *sa, int64_t now, struct sockaddr_storage *to,
                  socklen_t *tolen, char *host, size_t hostlen)
{
    unsigned char f, a[16];
    int found = 0;
    if (hu_addr_key(sa, &f, a) < 0)
        return 0;
    pthread_mutex_lock(&lock);
    expire_locked(now);
    for (int i = 0; i < ENTRIES && !found; i++) {
        struct entry *e = &table[i];
        if (!e->until || e->family != f || memcmp(e->old, a, 16) != 0)
            continue;
        size_t n = strlen(e->host);
        found = n < hostlen && hu_addr_like(sa, f, e->to, e->scope, to, tolen) == 0;
        if (found)
            memcpy(host, e->host, n + 1);
    }
    pthread_mutex_unlock(&lock);
    return found;
}

int hu_moved_used(const struct sockaddr *sa)
{
    unsigned char f, a[16];
    int first = 0;
    if (hu_addr_key(sa, &f, a) < 0)
        return 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < ENTRIES; i++) {
        struct entry *e = &table[i];
        if (e->until && e->family == f && memcmp(e->old, a, 16) == 0) {
            first = !e->used;
            e->used = 1;
        }
    }
    pthread_mutex_unlock(&lock);
    return first;
}

void hu_moved_forget_all(void)
{
    pthread_mutex_lock(&lock);
    memset(table, 0, sizeof table);
    __atomic_store_n(&hu_moved_live, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&lock);
}

/* fork: the lock is held across it, so the child never inherits it taken */
HU_FORK_CODE void hu_moved_atfork_prepare(void) { pthread_mutex_lock(&lock); }
HU_FORK_CODE void hu_moved_atfork_release(void) { pthread_mutex_unlock(&lock); }
