/* SPDX-License-Identifier: MIT */
/* Lookups bounded in time.  glibc's resolver waits as long as resolv.conf
 * says (2 x 5 s by default), and its timeout lives in the per-thread _res,
 * which is the program's: changing it would change the program's own
 * lookups.  So a bounded lookup runs the real getaddrinfo on a helper
 * thread, which has its own _res (read from resolv.conf as any new thread
 * would), and the caller waits for it at most until its bound.  A lookup
 * that is still running then is abandoned: the helper finishes on its own
 * and frees what it got.
 *
 * Bounds: at most HELPERS helpers are alive at once (an abandoned one lives
 * until glibc's own timeout ends); past that no helper is started, and a
 * try waits on its call's previous, still running look-up instead, or,
 * with none, is the plain call as libc makes it.  Each helper blocks every signal, so
 * the program's handlers never run on it, and runs under the recursion
 * guard.  The wait is a futex on the result flag: no lock that a fork could
 * leave taken, and a child, which has no helpers, waits at most its bound. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lookup.h"
#include "sys/real.h"
#include "retry.h"
#include "sys/optlibs.h"

#define HELPERS 64
#define HELPER_STACK ((size_t)1024 * 1024)

struct hu_lookup {
    int refs;                   /* the caller's and the helper's */
    int done;                   /* futex word: 0 running, 1 finished */
    int rc, err;                /* EAI code, errno for EAI_SYSTEM */
    struct addrinfo *res;       /* until the caller takes it */
    int have_hints;
    struct addrinfo hints;      /* flags, family, socktype, protocol only */
    char *node, *service;
};

HU_FORK_STATE static int helpers_alive;

static void release(hu_lookup *l)
{
    if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (l->res)
        freeaddrinfo(l->res);
    free(l->node);
    free(l->service);
    free(l);
}

static void *helper(void *p)
{
    hu_lookup *l = p;
    hu_guard++;
    struct addrinfo *res = NULL;
    int rc = hu_real.getaddrinfo(l->node, l->service, l->have_hints ? &l->hints : NULL, &res);
    l->err = rc == EAI_SYSTEM ? errno : 0;
    l->rc = rc;
    l->res = rc == 0 ? res : NULL;
    __atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, &l->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    __atomic_sub_fetch(&helpers_alive, 1, __ATOMIC_RELEASE);
    release(l);
    return NULL;
}

hu_lookup *hu_lookup_start(const char *node, const char *service, const struct addrinfo *hints)
{
    if (__atomic_add_fetch(&helpers_alive, 1, __ATOMIC_ACQ_REL) > HELPERS) {
        __atomic_sub_fetch(&helpers_alive, 1, __ATOMIC_RELEASE);
        return NULL;
    }
    hu_lookup *l = calloc(1, sizeof *l);
    if (!l)
        goto fail;
    l->refs = 2;
    l->node = node ? strdup(node) : NULL;
    l->service = service ? strdup(service) : NULL;
    if ((node && !l->node) || (service && !l->service))
        goto fail;
    if (hints) {
        l->have_hints = 1;
        l->hints.ai_flags = hints->ai_flags;
        l->hints.ai_family = hints->ai_family;
        l->hints.ai_socktype = hints->ai_socktype;
        l->hints.ai_protocol = hints->ai_protocol;
    }
    pthread_attr_t a;
    if (pthread_attr_init(&a) != 0)
        goto fail;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    /* the helper inherits a full signal mask: the program's handlers run
     * on its own threads only */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    int e = hu_thread_start(&a, HELPER_STACK, helper, l);
    sigprocmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (e == 0)
        return l;
fail:
    if (l) {
        free(l->node);
        free(l->service);
        free(l);
    }
    __atomic_sub_fetch(&helpers_alive, 1, __ATOMIC_RELEASE);
    return NULL;
}

int hu_lookup_wait(hu_lookup *l, int64_t until_ms, struct addrinfo **res, int *err)
{
    while (!__atomic_load_n(&l->done, __ATOMIC_ACQUIRE)) {
        int64_t left = until_ms - hu_now_ms();
        if (left <= 0)
            return HU_LOOKUP_PENDING;
        struct timespec ts = {left / 1000, (long)(left % 1000) * 1000000L};
        /* returns at the wake-up, a timeout, a signal (its handler has run:
         * a lookup is not interrupted by signals in libc either) or when
         * done is already 1 */
        syscall(SYS_futex, &l->done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    }
    if (res) {
        *res = l->res;
        l->res = NULL;
    }
    if (err)
        *err = l->err;
    return l->rc;
}

void hu_lookup_drop(hu_lookup *l)
{
    if (l)
        release(l);
}

HU_FORK_CODE void hu_lookup_atfork_child(void)
{
    __atomic_store_n(&helpers_alive, 0, __ATOMIC_RELAXED);   /* threads do not fork */
}

int hu_getaddrinfo_bounded(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res, unsigned timeout_ms, hu_lookup **pending,
                           int *timed_out)
{
    *timed_out = 0;
    hu_lookup *l = hu_lookup_start(node, service, hints);
    if (l) {
        hu_lookup_drop(*pending);
    } else {
        l = *pending;       /* no helper to be had: wait on the last one */
        if (!l)
            return hu_real.getaddrinfo(node, service, hints, res);
    }
    *pending = NULL;
    int err = 0;
    int rc = hu_lookup_wait(l, hu_now_ms() + timeout_ms, res, &err);
    if (rc == HU_LOOKUP_PENDING) {
        *pending = l;       /* the caller drops it when its call ends */
        *timed_out = 1;
        return EAI_AGAIN;   /* what glibc says when no server answers in time */
    }
    hu_lookup_drop(l);
    if (rc == EAI_SYSTEM)
        errno = err;
    return rc;
}
