/* SPDX-License-Identifier: MIT */
/* Each trapped connect: read its address, let through what is not ours
 * (not an IPv4/IPv6 address, a rule that never retries), make the first
 * try on the program's socket, and answer at once when that settles it.
 * Only a try still in flight, or one failing with a retryable errno, is
 * held: on its own thread (hold.c), so one slow target never delays
 * another.  The fast path (a connect that succeeds) keeps to the fewest
 * system calls: the socket's protocol is asked only when the try did not
 * show it (TCP_INFO works on a TCP socket only); a socket that is not TCP
 * is answered with what the kernel said to our connect on it, as if the
 * call had gone through, and never retried. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
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
 * socket (ADDFD way), or out of reach: let the call through. */
static int prepare(struct sv *s, struct sv_hold *h)
{
    if (!s->addfd) {
        h->fd = sv_take_fd(h->tid, h->pfd);
        if (h->fd < 0 && errno == EPERM) {
            s->addfd = 1;       /* refused for good: Docker's default profile */
            if (s->verbose)
                fprintf(stderr, "hostup: pidfd_getfd is refused here (no CAP_SYS_PTRACE): connects "
                                "made on sockets of ours, installed with SECCOMP_IOCTL_NOTIF_ADDFD\n");
        }
        if (h->fd < 0 && !s->addfd)
            return 0;
    }
    h->addfd = s->addfd;
    if (h->addfd) {
        int family = 0;
        if (!sv_inspect_fd(h->tid, h->pfd, &family, &h->flags, &h->cloexec))
            return 0;
        h->tcp = 1;
        h->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        return h->fd >= 0;
    }
    h->flags = fcntl(h->fd, F_GETFL);
    if (h->flags < 0)
        return 0;
    if (!(h->flags & O_NONBLOCK) && fcntl(h->fd, F_SETFL, h->flags | O_NONBLOCK) < 0)
        return 0;
    return 1;
}

/* Not ours after all: the program's socket as it was, ours closed. */
static void let_go(struct sv_hold *h)
{
    if (h->fd < 0)
        return;
    if (!h->addfd && h->flags >= 0 && !(h->flags & O_NONBLOCK))
        fcntl(h->fd, F_SETFL, h->flags);
    close(h->fd);
    h->fd = -1;
}

int sv_where(int fd, int *tcp)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    memset(&ti, 0, sizeof ti);
    int known = getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0;
    if (known && tcp)
        *tcp = 1;   /* TCP_INFO is TCP's (and MPTCP's) */
    /* the common case, in one call: past SYN_SENT and not closed is what
     * a blocking connect returns 0 for (the peer may have closed already) */
    if (known && ti.tcpi_state != TCP_SYN_SENT && ti.tcpi_state != TCP_SYN_RECV &&
        ti.tcpi_state != TCP_CLOSE)
        return 0;
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

/* The first try.  Returns 0, an errno, or EINPROGRESS (SYN in flight).
 * A loopback SYN is answered before connect returns: asked at once, with
 * no poll, the socket is already established. */
static int first_try(struct sv_hold *h)
{
    if (connect(h->fd, (struct sockaddr *)&h->ss, h->len) == 0)
        return 0;
    int err = errno;
    return err == EINPROGRESS ? sv_where(h->fd, &h->tcp) : err;
}

static void hold(struct sv *s, struct sv_hold *h)
{
    if (!h->addfd && !(h->flags & O_NONBLOCK))
        h->sndtimeo_ms = sndtimeo_ms(h->fd);    /* read only when it matters */
    pthread_attr_t a;
    pthread_t t;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, SV_STACK);
    __atomic_add_fetch(&s->holding, 1, __ATOMIC_RELAXED);
    if (pthread_create(&t, &a, sv_hold_run, h) != 0) {
        /* no thread: the program gets the first try's outcome as is */
        __atomic_sub_fetch(&s->holding, 1, __ATOMIC_RELAXED);
        h->first = h->first ? h->first : EINPROGRESS;
        sv_hold_finish(h, h->first == EINPROGRESS && !(h->flags & O_NONBLOCK) ? EINTR : h->first);
    }
    pthread_attr_destroy(&a);
}

void sv_settled(struct sv *s, struct sv_hold *h)
{
    if (h->first == EINPROGRESS || (h->first && hu_rule_retries_errno(h->r, h->first)))
        hold(s, h);
    else
        sv_hold_finish(h, h->first);
}

/* The address the program passes: read from its memory.  0: let it through. */
static int read_target(struct sv *s, const struct seccomp_notif *n, struct sv_hold *h)
{
    size_t len = (size_t)n->data.args[2];
    if (len < sizeof(struct sockaddr_in) || len > sizeof h->ss)
        return 0;
    if (!sv_read_mem(s, (pid_t)n->pid, &h->ss, len, n->data.args[1]))
        return 0;   /* the kernel will say EFAULT itself */
    sa_family_t fam = h->ss.ss_family;
    if (fam != AF_INET && !(fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)))
        return 0;
    h->len = (socklen_t)len;
    h->port = ntohs(((struct sockaddr_in *)&h->ss)->sin_port);
    return 1;
}

/* h from the stack onto the heap, for a thread or the in-flight list */
static struct sv_hold *keep(struct sv_hold *h)
{
    struct sv_hold *k = malloc(sizeof *k);
    if (k)
        memcpy(k, h, sizeof *k);
    return k;
}

/* The first try's outcome on the stack's h: answered here, or kept. */
static void after_first(struct sv *s, struct sv_hold *h, struct hu_shm *m)
{
    if (h->first == 0) {
        if (m && h->tcp)
            hu_herd_first((const struct sockaddr *)&h->ss, h->t0);
        sv_hold_reply(h, 0);
        return;
    }
    if (!h->tcp && !is_tcp(h->fd)) {
        sv_hold_reply(h, h->first);     /* what the kernel said: not ours to retry */
        return;
    }
    h->tcp = 1;
    if (m)
        hu_herd_first((const struct sockaddr *)&h->ss, h->t0);
    if (h->first != EINPROGRESS && !hu_rule_retries_errno(h->r, h->first)) {
        sv_hold_reply(h, h->first);
        return;
    }
    struct sv_hold *k = keep(h);
    if (!k) {
        sv_hold_reply(h, h->first == EINPROGRESS && !(h->flags & O_NONBLOCK) ? EINTR : h->first);
        return;
    }
    if (k->first == EINPROGRESS && s->ninflight < s->inflight_max)
        s->inflight[s->ninflight++] = k;    /* the receiver watches it */
    else
        sv_settled(s, k);
}

/* Another process probes this dead target: hold the connect, no try. */
static int herd_waits(struct sv *s, struct sv_hold *h, struct hu_shm *m)
{
    if (!m || !__atomic_load_n(&m->failing, __ATOMIC_RELAXED) || !(h->tcp || is_tcp(h->fd)))
        return 0;
    h->tcp = 1;
    if (!hu_herd_should_wait((const struct sockaddr *)&h->ss, &h->skip_err))
        return 0;
    h->first = 0;
    struct sv_hold *k = keep(h);
    if (k)
        hold(s, k);
    return k != NULL;   /* no memory: try now after all */
}

static void handle(struct sv *s, const struct seccomp_notif *n, struct sv_hold *h)
{
    memset(h, 0, sizeof *h);
    h->s = s;
    h->id = n->id;
    h->tid = (pid_t)n->pid;
    h->pfd = (int)n->data.args[0];
    h->fd = -1;
    h->flags = -1;
    if (n->data.nr != __NR_connect || !read_target(s, n, h))
        goto through;
    const struct sockaddr *sa = (const struct sockaddr *)&h->ss;
    h->r = hu_policy_match(s->policy, NULL, sa, h->port);
    if (h->r->off || h->r->attempts < 2 ||
        __atomic_load_n(&s->holding, __ATOMIC_RELAXED) >= SV_MAX_HELD || !prepare(s, h))
        goto through;
    /* still trapped, so the thread never ended: the address read and the
     * socket taken are its own, not those of a task that reused its id */
    if (!sv_id_valid(s, n->id)) {
        let_go(h);
        return;
    }
    h->t0 = hu_now_ms();
    struct hu_shm *m = hu_herd_get();
    if (herd_waits(s, h, m))
        return;
    h->first = first_try(h);
    after_first(s, h, m);
    return;
through:
    let_go(h);
    sv_continue(s, n->id);
}

int sv_recv_one(struct sv *s, struct seccomp_notif *n)
{
    struct sv_hold h;
    memset(n, 0, s->notif_size);    /* the kernel wants it zeroed */
    if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, n) != 0)
        return errno == ENOENT || errno == EINTR ? 0 : -1;  /* ENOENT: the caller is gone */
    handle(s, n, &h);
    return 0;
}
