/* Each trapped connect: read its address, let through what is not ours
 * (not TCP over IPv4/IPv6, a rule that never retries), make the first try
 * on the program's socket, and answer at once when that settles it.  Only
 * a try still in flight, or one failing with a retryable errno, is held:
 * on its own thread (hold.c), so one slow target never delays another. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine/retry.h"
#include "sv.h"

#define SV_MAX_HELD 1024        /* beyond this, connects go through unheld */
#define SV_STACK ((size_t)256 * 1024)  /* diagnosis and records need some */

int sv_notify_init(struct sv *s)
{
    struct seccomp_notif_sizes sz;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0)
        return -1;
    s->notif_size = sz.seccomp_notif > sizeof(struct seccomp_notif) ? sz.seccomp_notif
                                                                      : sizeof(struct seccomp_notif);
    s->resp_size = sz.seccomp_notif_resp;
    /* 6.6+: the trapped thread and we hand the CPU to each other, as a
     * call and its return, rather than wake one another up elsewhere */
    ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    return 0;
}

/* TCP and MPTCP sockets are always SOCK_STREAM: the protocol says all */
static int is_tcp(int fd)
{
    int proto = 0;
    socklen_t l = sizeof proto;
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) < 0)
        return 0;
    return proto == IPPROTO_TCP || proto == 262 /* IPPROTO_MPTCP */;
}

static unsigned sndtimeo_ms(int fd)
{
    struct timeval tv = {0, 0};
    socklen_t l = sizeof tv;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &l) < 0)
        return 0;
    return (unsigned)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* The program's socket, ready for our first try: taken (pidfd_getfd) and
 * made non-blocking, or (the ADDFD way) a new one of ours.  0: not a TCP
 * socket, or out of reach: let the call through. */
static int prepare(struct sv *s, struct sv_hold *h)
{
    if (!s->addfd) {
        h->fd = sv_take_fd(h->tid, h->pfd);
        if (h->fd < 0 && errno == EPERM)
            s->addfd = 1;       /* refused for good: Docker's default profile */
        if (h->fd < 0 && !s->addfd)
            return 0;
    }
    if (s->addfd) {
        int family = 0;
        if (!sv_inspect_fd(h->tid, h->pfd, &family, &h->flags, &h->cloexec))
            return 0;
        h->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        return h->fd >= 0;
    }
    if (!is_tcp(h->fd))
        return 0;
    h->flags = fcntl(h->fd, F_GETFL);
    if (h->flags < 0)
        return 0;
    if (!(h->flags & O_NONBLOCK) && fcntl(h->fd, F_SETFL, h->flags | O_NONBLOCK) < 0)
        return 0;
    return 1;
}

/* Where a try stands once its socket polled ready: 0 connected, an
 * errno, or EINPROGRESS (a spurious wake-up: SYN still in flight). */
static int where(int fd)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_state == TCP_ESTABLISHED)
        return 0;   /* the common case, in one call */
    int err = 0;
    l = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
        return EINPROGRESS;
    if (err)
        return err;
    if (ti.tcpi_state == TCP_SYN_SENT)
        return EINPROGRESS;
    if (ti.tcpi_state == TCP_CLOSE) {   /* the error was read already: ICMP's */
        hu_icmp icmp = {0};
        hu_drain_errqueue(fd, &icmp);
        return icmp.have && icmp.ee_errno ? icmp.ee_errno : ECONNABORTED;
    }
    return 0;
}

/* The first try.  Returns 0, an errno, or EINPROGRESS (SYN in flight). */
static int first_try(struct sv_hold *h)
{
    if (connect(h->fd, (struct sockaddr *)&h->ss, h->len) == 0)
        return 0;
    int err = errno;
    if (err != EINPROGRESS)
        return err;
    struct pollfd p = {h->fd, POLLOUT, 0};
    return poll(&p, 1, 0) == 1 ? where(h->fd) : EINPROGRESS;
}

static void hold(struct sv *s, struct sv_hold *h)
{
    if (!s->addfd && !(h->flags & O_NONBLOCK))
        h->sndtimeo_ms = sndtimeo_ms(h->fd);    /* read only when it matters */
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, SV_STACK);
    __atomic_add_fetch(&s->holding, 1, __ATOMIC_RELAXED);
    if (pthread_create(&t, &a, sv_hold_run, h) != 0) {
        /* no thread: the program gets the first try's outcome as is */
        h->first = h->first ? h->first : EINPROGRESS;
        sv_hold_finish(h, h->first == EINPROGRESS && !(h->flags & O_NONBLOCK) ? EINTR : h->first);
    }
    pthread_attr_destroy(&a);
}

/* The first try's outcome is known (or it is out of the main loop's
 * hands): answer, or hold the connect on a thread. */
static void settled(struct sv *s, struct sv_hold *h)
{
    if (h->first == EINPROGRESS || (h->first && hu_rule_retries_errno(h->r, h->first)))
        hold(s, h);
    else
        sv_hold_finish(h, h->first);
}

int sv_inflight_fill(const struct sv *s, struct pollfd *p, int64_t now)
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

void sv_inflight_events(struct sv *s, const struct pollfd *p, int64_t now)
{
    for (unsigned i = s->ninflight; i-- > 0;) {
        struct sv_hold *h = s->inflight[i];
        if (p[i].revents)
            h->first = where(h->fd);
        if (h->first == EINPROGRESS && now < h->t0 + SV_HANDOFF_MS)
            continue;
        s->inflight[i] = s->inflight[--s->ninflight];   /* p[] is not looked at again */
        settled(s, h);
    }
}

/* The address the program passes: read from its memory.  0: let it through. */
static int read_target(const struct seccomp_notif *n, struct sv_hold *h)
{
    size_t len = (size_t)n->data.args[2];
    if (len < sizeof(struct sockaddr_in) || len > sizeof h->ss)
        return 0;
    struct iovec local = {&h->ss, len};
    struct iovec remote = {(void *)(uintptr_t)n->data.args[1], len};
    if (process_vm_readv(n->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
        return 0;   /* the kernel will say EFAULT itself */
    sa_family_t fam = h->ss.ss_family;
    if (fam != AF_INET && !(fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)))
        return 0;
    h->len = (socklen_t)len;
    h->port = ntohs(((struct sockaddr_in *)&h->ss)->sin_port);
    return 1;
}

static void handle(struct sv *s, const struct seccomp_notif *n, struct sv_hold *h)
{
    h->s = s;
    h->id = n->id;
    h->tid = (pid_t)n->pid;
    h->pfd = (int)n->data.args[0];
    h->fd = -1;
    if (n->data.nr != __NR_connect || !read_target(n, h))
        goto through;
    const struct sockaddr *sa = (const struct sockaddr *)&h->ss;
    h->r = hu_policy_match(s->policy, NULL, sa, h->port);
    if (h->r->off || h->r->attempts < 2 ||
        __atomic_load_n(&s->holding, __ATOMIC_RELAXED) >= SV_MAX_HELD || !prepare(s, h))
        goto through;
    /* still trapped, so the thread never ended: the address read and the
     * socket taken are its own, not those of a task that reused its id */
    if (!sv_id_valid(s, n->id)) {
        if (!s->addfd && !(h->flags & O_NONBLOCK))
            fcntl(h->fd, F_SETFL, h->flags);
        close(h->fd);
        free(h);
        return;
    }
    h->t0 = hu_now_ms();
    struct hu_shm *m = hu_herd_get();
    if (m && __atomic_load_n(&m->failing, __ATOMIC_RELAXED) &&
        hu_herd_should_wait(sa, &h->skip_err)) {
        h->first = 0;   /* another process probes this dead target: wait for it */
        hold(s, h);
        return;
    }
    if (m)
        hu_herd_first(sa, h->t0);
    h->first = first_try(h);
    if (h->first == EINPROGRESS && s->ninflight < SV_INFLIGHT) {
        s->inflight[s->ninflight++] = h;    /* the main loop watches it */
        return;
    }
    settled(s, h);
    return;
through:
    if (h->fd >= 0)
        close(h->fd);
    sv_continue(s, n->id);
    free(h);
}

void sv_on_notification(struct sv *s)
{
    struct seccomp_notif *n = calloc(1, s->notif_size);
    struct sv_hold *h = calloc(1, sizeof *h);
    if (!n || !h) {
        free(n);
        free(h);
        return;     /* left pending: picked up on the next wake-up */
    }
    if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, n) == 0)
        handle(s, n, h);
    else
        free(h);    /* ENOENT: the caller is gone already */
    free(n);
}
