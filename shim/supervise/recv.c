/* SPDX-License-Identifier: MIT */
/* The receiver: the thread that takes the trapped connects off the
 * listener.  While no first try is in flight it blocks in
 * SECCOMP_IOCTL_NOTIF_RECV itself: one system call per notification, and
 * with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP the trapped thread hands the CPU
 * straight to it.  With first tries in flight (a SYN out to a slower
 * target) it polls the listener together with their sockets for up to
 * SV_HANDOFF_MS each, before a thread of their own takes over: near targets
 * (loopback, the LAN) connect with no thread at all.  Signals and reaping
 * stay with the main thread (run.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "engine/retry.h"
#include "sv.h"

static int inflight_fill(const struct sv *s, struct pollfd *p, int64_t now)
{
    int64_t soonest = -1;
    for (unsigned i = 0; i < s->ninflight; i++) {
        p[i].fd = s->inflight[i]->fd;
        p[i].events = POLLOUT;
        p[i].revents = 0;
        int64_t left = s->inflight[i]->t0 + SV_HANDOFF_MS - now;
        if (soonest < 0 || left < soonest)
            soonest = left > 0 ? left : 0;
    }
    return (int)soonest;
}

static void inflight_events(struct sv *s, const struct pollfd *p, int64_t now)
{
    for (unsigned i = s->ninflight; i-- > 0;) {
        struct sv_hold *h = s->inflight[i];
        if (p[i].revents)
            h->first = sv_where(h->fd, NULL);
        if (h->first == EINPROGRESS && now < h->t0 + SV_HANDOFF_MS)
            continue;
        s->inflight[i] = s->inflight[--s->ninflight];   /* p[] is not looked at again */
        sv_settled(s, h);
    }
}

static void *receiver(void *arg)
{
    struct sv *s = arg;
    struct seccomp_notif *n = malloc(s->notif_size);
    struct pollfd p[1 + SV_INFLIGHT];
    int hup = 0;    /* nobody is left under the filter */
    while (n) {
        if (!s->ninflight) {
            if (hup || sv_recv_one(s, n) < 0)
                break;
            continue;
        }
        p[0].fd = hup ? -1 : s->listener;
        p[0].events = POLLIN;
        p[0].revents = 0;
        unsigned nin = s->ninflight;
        int timeout = inflight_fill(s, p + 1, hu_now_ms());
        if (poll(p, 1 + nin, timeout) < 0)
            continue;
        inflight_events(s, p + 1, hu_now_ms());
        if (p[0].revents & POLLIN)
            sv_recv_one(s, n);  /* ready: does not block */
        else if (p[0].revents & (POLLHUP | POLLERR))
            hup = 1;
    }
    free(n);
    return NULL;
}

int sv_receiver_start(struct sv *s)
{
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    s->inflight_max = SV_INFLIGHT;
    int rc = pthread_create(&t, &a, receiver, s);
    pthread_attr_destroy(&a);
    if (rc != 0)
        s->inflight_max = 0;    /* the main loop receives; tries in flight go to threads */
    return rc == 0 ? 0 : -1;
}
