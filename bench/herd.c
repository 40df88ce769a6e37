/* SPDX-License-Identifier: MIT */
/* The recovery experiment's two sides.
 *
 *   herd serve IFNAME PORT0 NPORTS OUT
 *     The service: listens on PORT0 .. PORT0+NPORTS-1 (accepts and closes)
 *     and counts every incoming SYN to those ports on IFNAME with an
 *     AF_PACKET socket, which sees packets before netfilter.  It starts
 *     "down": it answers each such SYN with ICMP host-unreachable (type 3
 *     code 1, from the address the SYN was sent to), while the caller drops
 *     the SYNs in nftables so the kernel does not answer them too.  SIGUSR1
 *     makes it "up" (no more ICMP), SIGUSR2 "down" again.
 *     Why not nftables' own `reject`: between two namespaces of one machine
 *     the kernel's ICMP reply reaches the client while connect() still holds
 *     its socket lock, so the kernel keeps it as a soft error and the SYN is
 *     retransmitted a second later: every failed try would last 1 s.  Over
 *     a real network the ICMP comes back after the lock is released and
 *     fails the connect at once; an answer from user space does the same.
 *     On SIGTERM writes one line per SYN to OUT: "realtime_ns port sport
 *     seq answered" (a retransmitted SYN repeats sport and seq, so one
 *     connect try is one (sport, seq) pair; answered: 1 if it got an ICMP),
 *     and for each connection accepted "realtime_ns port peer_port 0 2",
 *     then "# drops N" (packets the kernel could not queue for us).
 *     Prints "ready" on stderr once listening.
 *
 *   herd client KIND N ADDR PORT START_NS DEADLINE_S
 *     N threads, each one client, all starting at START_NS (CLOCK_REALTIME,
 *     nanoseconds since the epoch) and each giving up DEADLINE_S after it.
 *     KIND is the client's own retry strategy:
 *       once    one blocking connect (under hostup: hostup's retries)
 *       app3    three tries, sleeping 1 s x try number in between
 *       poll1s  a try every 1 s until the deadline (wait-for-it style)
 *     Each try of app3/poll1s uses a fresh socket, as such loops do.
 *     p-once, p-app3, p-poll1s: the same, but N separate processes (forked
 *     once at start-up, before START_NS) of one client each, as a fleet of
 *     containers or workers would be: what hostup's shared state is for.
 *     Writes one line per client to stdout:
 *       "id ok start_ns end_ns tries errno tcp_state"
 *     tries counts only the client's own connect() calls.  A connect() that
 *     returns 0 on a socket that is not ESTABLISHED (TCP_INFO) ends the
 *     client as failed, with errno "false-success" and the TCP state.
 *
 * Nothing here is timed against a threshold: the numbers go to
 * bench/herd_report.py. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- server ---------------------------------------------------------- */

static volatile sig_atomic_t stop, up;
static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        up = 1;
    else if (sig == SIGUSR2)
        up = 0;
    else
        stop = 1;
}

/* answered: 0/1 for a SYN, 2 for a connection accepted */
struct syn { int64_t ns; uint16_t port, sport; uint32_t seq; uint8_t answered; };

static uint16_t csum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t sum = 0;
    for (; len > 1; len -= 2, p += 2)
        sum += (uint32_t)p[0] << 8 | p[1];
    if (len)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return htons((uint16_t)~sum);
}

/* ICMP host-unreachable for the packet pkt (IP header + 8 bytes quoted, as
 * RFC 792 asks), sent from the address it was sent to. */
static int unreachable(int raw, const uint8_t *pkt, size_t ihl)
{
    const struct iphdr *ip = (const void *)pkt;
    uint8_t out[sizeof(struct icmphdr) + 60 + 8];
    struct icmphdr *icmp = (void *)out;
    size_t len = sizeof *icmp + ihl + 8;
    memset(out, 0, sizeof out);
    icmp->type = ICMP_DEST_UNREACH;
    icmp->code = ICMP_HOST_UNREACH;
    memcpy(out + sizeof *icmp, pkt, ihl + 8);
    icmp->checksum = csum(out, len);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_addr.s_addr = ip->saddr};
    return sendto(raw, out, len, 0, (struct sockaddr *)&dst, sizeof dst) == (ssize_t)len;
}

static int serve(const char *ifname, int port0, int nports, const char *out)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);

    struct pollfd *pf = calloc(nports + 1, sizeof *pf);
    for (int i = 0; i < nports; i++) {
        int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port0 + i)};
        setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 4096)) {
            perror("herd serve: listen");
            return 1;
        }
        pf[i] = (struct pollfd){l, POLLIN, 0};
    }
    int pk = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
                              .sll_ifindex = (int)if_nametoindex(ifname)};
    int on = 1, rcv = 32 << 20;
    if (pk < 0 || !sll.sll_ifindex || bind(pk, (struct sockaddr *)&sll, sizeof sll) ||
        setsockopt(pk, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on)) {
        perror("herd serve: packet socket");
        return 1;
    }
    setsockopt(pk, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv);
    pf[nports] = (struct pollfd){pk, POLLIN, 0};
    /* raw ICMP: the kernel writes the IP header, with the source address
     * the route gives, which is the one the SYN went to */
    int raw = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (raw < 0) {
        perror("herd serve: raw socket");
        return 1;
    }

    size_t n = 0, cap = 1 << 16;
    struct syn *syns = malloc(cap * sizeof *syns);
    fprintf(stderr, "ready\n");
    while (!stop) {
        if (poll(pf, nports + 1, 1000) < 0)
            continue;
        for (int i = 0; i < nports; i++)
            if (pf[i].revents & POLLIN) {
                int c;
                struct sockaddr_in peer;
                socklen_t pl = sizeof peer;
                while ((c = accept(pf[i].fd, (struct sockaddr *)&peer, &pl)) >= 0) {
                    close(c);
                    if (n == cap)
                        syns = realloc(syns, (cap *= 2) * sizeof *syns);
                    syns[n++] = (struct syn){now_ns(), (uint16_t)(port0 + i), ntohs(peer.sin_port), 0, 2};
                    pl = sizeof peer;
                }
            }
        if (!(pf[nports].revents & POLLIN))
            continue;
        for (;;) {
            uint8_t pkt[128];
            char cbuf[256];
            struct sockaddr_ll from;
            struct iovec iov = {pkt, sizeof pkt};
            struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
                               .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
            ssize_t len = recvmsg(pk, &m, MSG_DONTWAIT | MSG_TRUNC);
            if (len < 0)
                break;
            if (from.sll_pkttype == PACKET_OUTGOING)
                continue;
            size_t got = (size_t)len < sizeof pkt ? (size_t)len : sizeof pkt;
            const struct iphdr *ip = (const void *)pkt;
            if (got < sizeof *ip || ip->version != 4 || ip->protocol != IPPROTO_TCP)
                continue;
            size_t ihl = ip->ihl * 4u;
            if (got < ihl + sizeof(struct tcphdr))
                continue;
            const struct tcphdr *tcp = (const void *)(pkt + ihl);
            int port = ntohs(tcp->dest);
            if (!tcp->syn || tcp->ack || port < port0 || port >= port0 + nports)
                continue;
            int64_t ns = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec ts;
                    memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
                }
            int answered = !up && unreachable(raw, pkt, ihl);
            if (n == cap)
                syns = realloc(syns, (cap *= 2) * sizeof *syns);
            syns[n++] = (struct syn){ns ? ns : now_ns(), (uint16_t)port, ntohs(tcp->source),
                                     ntohl(tcp->seq), (uint8_t)answered};
        }
    }
    struct tpacket_stats st = {0};
    socklen_t sl = sizeof st;
    getsockopt(pk, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
    FILE *f = fopen(out, "w");
    if (!f) {
        perror(out);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%lld %u %u %u %u\n", (long long)syns[i].ns, syns[i].port, syns[i].sport,
                syns[i].seq, syns[i].answered);
    fprintf(f, "# drops %u\n", st.tp_drops);
    return fclose(f) != 0;
}

/* ---- clients --------------------------------------------------------- */

enum kind { ONCE, APP3, POLL1S };

static enum kind kind;
static struct sockaddr_in target;
static int64_t start_ns, deadline_ns;

struct client {
    pthread_t t;
    int id, ok, tries, err, done, false_ok;
    int64_t t0, t1;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int finished;

static void sleep_until(int64_t ns)
{
    struct timespec ts = {ns / 1000000000, ns % 1000000000};
    while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* One blocking connect on a fresh socket: 0 or the errno. */
static int try_connect(int *state)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return errno;
    /* bound the whole call by the experiment's deadline; hostup honours it */
    int64_t left = deadline_ns - now_ns();
    struct timeval tv = {left > 0 ? left / 1000000000 : 0, left > 0 ? (left % 1000000000) / 1000 : 1};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int err = connect(s, (struct sockaddr *)&target, sizeof target) == 0 ? 0 : errno;
    if (!err) {
        /* trust, but verify: a connect() that says 0 must leave an
         * established connection (CLOSE_WAIT: established, and the server
         * has already closed its end, as it does at once) */
        struct tcp_info ti;
        socklen_t l = sizeof ti;
        memset(&ti, 0, sizeof ti);
        if (getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_state != TCP_ESTABLISHED &&
            ti.tcpi_state != TCP_CLOSE_WAIT) {
            *state = ti.tcpi_state;
            err = ENOTCONN;
        }
    }
    close(s);
    return err;
}

static void *client(void *arg)
{
    struct client *c = arg;
    sleep_until(start_ns);
    c->t0 = now_ns();
    for (;;) {
        c->tries++;
        int state = 0;
        c->err = try_connect(&state);
        c->t1 = now_ns();
        if (state) {    /* connect() said 0 but is not connected: counts as a failure */
            c->false_ok = state;
            break;
        }
        if (!c->err) {
            c->ok = c->t1 <= deadline_ns;
            break;
        }
        int64_t wait;
        if (kind == ONCE || (kind == APP3 && c->tries >= 3))
            break;
        wait = kind == APP3 ? c->tries * 1000000000LL : 1000000000LL;
        if (c->t1 + wait > deadline_ns)
            break;
        sleep_until(c->t1 + wait);
    }
    pthread_mutex_lock(&mu);
    c->done = 1;
    finished++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static const char *errname(int e)
{
    switch (e) {
    case 0: return "0";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EHOSTDOWN: return "EHOSTDOWN";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOTCONN: return "false-success";
    case EINPROGRESS: return "EINPROGRESS";
    case EAGAIN: return "EAGAIN";
    default: return "other";
    }
}

static int procs;

static void print_client(const struct client *c)
{
    if (c->done)
        printf("%d %d %lld %lld %d %s %d\n", c->id, c->ok, (long long)c->t0, (long long)c->t1,
               c->tries, errname(c->err), c->false_ok);
    else
        printf("%d 0 %lld %lld %d stuck 0\n", c->id, (long long)c->t0, (long long)now_ns(), c->tries);
}

/* N processes of one client each; the parent collects nothing but their
 * exit: each child prints its own line (one write, so lines stay whole). */
static int client_procs(int n)
{
    pid_t *pids = calloc(n, sizeof *pids);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            struct client c = {.id = i};
            alarm((unsigned)((deadline_ns - now_ns()) / 1000000000 + 6));
            client(&c);
            print_client(&c);
            fflush(stdout);
            _exit(0);
        }
    }
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) == pids[i] && WIFSIGNALED(st))   /* the alarm: stuck */
            printf("%d 0 %lld %lld 0 stuck 0\n", i, (long long)start_ns, (long long)now_ns());
    }
    fflush(stdout);
    return 0;
}

static int clients(const char *k, int n, const char *addr, int port, int64_t start, int deadline_s)
{
    if (!strncmp(k, "p-", 2)) {
        procs = 1;
        k += 2;
    }
    if (!strcmp(k, "once"))
        kind = ONCE;
    else if (!strcmp(k, "app3"))
        kind = APP3;
    else if (!strcmp(k, "poll1s"))
        kind = POLL1S;
    else
        return 64;
    target = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, addr, &target.sin_addr) != 1)
        return 64;
    start_ns = start;
    deadline_ns = start + deadline_s * 1000000000LL;
    if (procs)
        return client_procs(n);

    struct client *cs = calloc(n, sizeof *cs);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 << 10);
    for (int i = 0; i < n; i++) {
        cs[i].id = i;
        if (pthread_create(&cs[i].t, &at, client, &cs[i])) {
            perror("herd client: pthread_create");
            return 1;
        }
    }
    /* a client still stuck 5 s past the deadline counts as failed */
    struct timespec lim = {(deadline_ns + 5000000000LL) / 1000000000, 0};
    pthread_mutex_lock(&mu);
    while (finished < n && pthread_cond_timedwait(&cv, &mu, &lim) != ETIMEDOUT)
        ;
    for (int i = 0; i < n; i++)
        print_client(&cs[i]);
    fflush(stdout);
    _exit(0);   /* stuck threads are not joined */
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "serve"))
        return serve(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
    if (argc == 8 && !strcmp(argv[1], "client"))
        return clients(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]), atoll(argv[6]), atoi(argv[7]));
    fprintf(stderr, "usage: herd serve IFNAME PORT0 NPORTS OUT\n"
                    "       herd client [p-]once|app3|poll1s N ADDR PORT START_NS DEADLINE_S\n");
    return 64;
}
