/* SPDX-License-Identifier: MIT */
/* The supervisor's internals, shared by the files of shim/supervise/. */
#ifndef HOSTUP_SV_H
#define HOSTUP_SV_H

#include <linux/seccomp.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/probe.h"
#include "engine/decide.h"
#include "engine/herd.h"
#include "hostup/backoff.h"
#include "hostup/policy.h"

/* Older kernel headers than the kernels we meet */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0x80   /* O_EXCL: pidfd_open of a thread (6.9) */
#endif

struct sv_hold;
/* First tries in flight, watched by the receiver for up to SV_HANDOFF_MS
 * before a thread takes over: near targets (loopback, the LAN) connect
 * with no thread at all. */
#define SV_INFLIGHT 64
#define SV_HANDOFF_MS 100

/* The supervisor's state, one per `hostup run`. */
struct sv {
    int listener;               /* the seccomp listener; -1: none */
    pid_t child;
    const hu_policy *policy;
    int addfd;                  /* pidfd_getfd refused: own sockets + ADDFD */
    int killable;               /* the filter has WAIT_KILLABLE_RECV */
    int verbose;                /* say on stderr when a fallback is taken */
    int vm_refused;             /* process_vm_readv refused: /proc/PID/mem */
    size_t notif_size, resp_size;
    unsigned holding;           /* held connects (threads) now */
    /* the receiver thread's own (recv.c) */
    struct sv_hold *inflight[SV_INFLIGHT];
    unsigned ninflight, inflight_max;
};

/* ---- filter.c: the child's side ---- */
/* In the child after fork: install the filter and send the listener (or
 * the errno of what failed) over sock.  Never fails the child. */
void sv_child_setup(int sock);
/* In the parent: receive what the child sent.  Returns the listener, or
 * -1 with the reason in why. */
int sv_parent_receive(int sock, struct sv *s, char *why, size_t len);
/* Does this kernel have what the supervisor needs?  0, or -1 with why. */
int sv_kernel_ok(char *why, size_t len);

/* ---- answer.c: talking to the listener and the program's process ---- */
int sv_id_valid(const struct sv *s, uint64_t id);
/* Answer the trapped call: err 0 returns 0, else -1 with errno err. */
void sv_answer(const struct sv *s, uint64_t id, int err);
/* Let the call run in the kernel as if never trapped. */
void sv_continue(const struct sv *s, uint64_t id);
/* The program's socket fd (of thread tid) as a file of ours, or -1 with
 * errno (EPERM: pidfd_getfd refused, as under Docker's default profile). */
int sv_take_fd(pid_t tid, int fd);
/* len bytes at addr in thread tid's memory into buf: 1 if all were read.
 * process_vm_readv, or where it is refused (Docker 20.10's default
 * profile), /proc/TID/mem.  The caller checks ID_VALID afterwards. */
int sv_read_mem(struct sv *s, pid_t tid, void *buf, size_t len, uint64_t addr);
/* Install our socket at the program's fd number (the ADDFD way). */
int sv_install_fd(const struct sv *s, uint64_t id, int ours, int at, int cloexec);
/* ADDFD way: what the program's fd is.  Returns 1 for a TCP socket (with
 * its family, file status flags and close-on-exec), 0 otherwise. */
int sv_inspect_fd(pid_t tid, int fd, int *family, int *flags, int *cloexec);
/* The thread's process id and the program's name (comm) */
pid_t sv_tgid(pid_t tid);
void sv_comm(pid_t pid, char *buf, size_t len);

/* ---- decide.c: the one retry decision (the engine's, engine/decide.h) ---- */
enum sv_next { SV_WAIT, SV_GIVE_UP };
typedef struct sv_retry {
    hu_attempt a;               /* the decision's state: a.attempt counts tries
                                 * made or skipped, a.last_real the errno of
                                 * the last try the kernel ended */
    int64_t end;                /* no new try at or after this; 0: none */
} sv_retry;
typedef struct sv_decision {
    enum sv_next next;
    unsigned delay_ms;          /* SV_WAIT: until the next try */
    int err;                    /* SV_GIVE_UP: the errno the program gets */
    int reason;                 /* SV_GIVE_UP: enum hu_giveup */
    int log;                    /* SV_GIVE_UP: write a gave_up record */
} sv_decision;
void sv_retry_init(sv_retry *t, const hu_rule *r, int64_t t0, int64_t end);
/* A try failed with err (ETIMEDOUT when cut short by our own bound: cut). */
sv_decision sv_decide(sv_retry *t, int err, int cut, int64_t now);

/* ---- hold.c: one held connect ---- */
struct sv_hold {
    struct sv *s;
    uint64_t id;
    pid_t tid;
    int pfd;                    /* the program's fd number */
    int fd;                     /* its socket (taken) or ours (ADDFD way) */
    int addfd;                  /* ours, to be installed with ADDFD */
    int tcp;                    /* known to be a TCP socket */
    int flags;                  /* the program's file status flags */
    int cloexec;
    struct sockaddr_storage ss;
    socklen_t len;
    unsigned port;
    const hu_rule *r;
    int64_t t0;
    unsigned sndtimeo_ms;       /* the program's SO_SNDTIMEO (blocking) */
    int first;                  /* errno of the first try, EINPROGRESS, or
                                   0 when a prober elsewhere made it moot */
    int skip_err;               /* with first 0: the prober's last errno */
};
/* Runs on its own thread: the retry loop; answers and frees h. */
void *sv_hold_run(void *h);
/* The connect is over, one way or another: answer and let go of the
 * socket; _finish also frees h. */
void sv_hold_reply(struct sv_hold *h, int err);
void sv_hold_finish(struct sv_hold *h, int err);

/* ---- record.c ---- */
void sv_record(const char *event, const struct sv_hold *h, int err, unsigned attempt,
               long delay, long elapsed, long try_ms, const hu_icmp *icmp, int reason,
               long waited_ms);
/* The one record saying the program runs unsupervised, and why. */
void sv_record_unsupervised(const char *prog, const char *why);

/* ---- notify.c ---- */
int sv_notify_init(struct sv *s);
/* Receive one notification (n: notif_size bytes) and handle it.  Blocks
 * until one comes.  -1: the listener is unusable. */
int sv_recv_one(struct sv *s, struct seccomp_notif *n);
/* Where a try stands: 0 connected, an errno, or EINPROGRESS (SYN in
 * flight); *tcp set when the socket showed itself TCP (tcp may be NULL). */
int sv_where(int fd, int *tcp);
/* A first try's outcome is known (or out of the receiver's hands): answer,
 * or hold the connect on a thread.  h is on the heap. */
void sv_settled(struct sv *s, struct sv_hold *h);

/* ---- recv.c ---- */
/* Start the receiver thread.  -1: none (then the main loop receives). */
int sv_receiver_start(struct sv *s);

#endif
