/* Internal interface of libhostup.so: the real functions, initialisation,
 * the recursion guard and the modules the wrappers share. */
#ifndef HOSTUP_HU_H
#define HOSTUP_HU_H

#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "sys/musl_compat.h"
#include "hostup/backoff.h"
#include "hostup/policy.h"

#define HU_HIDDEN __attribute__((visibility("hidden")))
#define HU_LIKELY(x) __builtin_expect(!!(x), 1)
#define HU_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The next definitions of every call we wrap, bound with dlsym(RTLD_NEXT)
 * so that libraries preloaded after us are still reached. */
struct hu_real {
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
                       struct addrinfo **);
    struct hostent *(*gethostbyname)(const char *);
    struct hostent *(*gethostbyname2)(const char *, int);
    int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
                           struct hostent **, int *);
    int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
                            struct hostent **, int *);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*ppoll)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
    int (*select)(int, fd_set *, fd_set *, fd_set *, struct timeval *);
    int (*pselect)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
    int (*epoll_ctl)(int, int, int, struct epoll_event *);
    int (*epoll_wait)(int, struct epoll_event *, int, int);
    int (*epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
    int (*epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    int (*fcntl)(int, int, ...);
    int (*fcntl64)(int, int, ...);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    /* network volumes: open, stat, read and stdio families */
    int (*open)(const char *, int, ...);
    int (*open64)(const char *, int, ...);
    int (*__open)(const char *, int, ...);
    int (*__open64)(const char *, int, ...);
    int (*openat)(int, const char *, int, ...);
    int (*openat64)(int, const char *, int, ...);
    int (*creat)(const char *, mode_t);
    int (*creat64)(const char *, mode_t);
    int (*__open_2)(const char *, int);
    int (*__open64_2)(const char *, int);
    int (*__openat_2)(int, const char *, int);
    int (*__openat64_2)(int, const char *, int);
    FILE *(*fopen)(const char *, const char *);
    FILE *(*fopen64)(const char *, const char *);
    FILE *(*freopen)(const char *, const char *, FILE *);
    FILE *(*freopen64)(const char *, const char *, FILE *);
    int (*fclose)(FILE *);
    int (*stat)(const char *, struct stat *);
    int (*stat64)(const char *, struct stat64 *);
    int (*lstat)(const char *, struct stat *);
    int (*lstat64)(const char *, struct stat64 *);
    int (*fstatat)(int, const char *, struct stat *, int);
    int (*fstatat64)(int, const char *, struct stat64 *, int);
    int (*statx)(int, const char *, int, unsigned, struct statx *);
    int (*__xstat)(int, const char *, struct stat *);
    int (*__xstat64)(int, const char *, struct stat64 *);
    int (*__lxstat)(int, const char *, struct stat *);
    int (*__lxstat64)(int, const char *, struct stat64 *);
    int (*__fxstatat)(int, int, const char *, struct stat *, int);
    int (*__fxstatat64)(int, int, const char *, struct stat64 *, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*pread)(int, void *, size_t, off_t);
    ssize_t (*pread64)(int, void *, size_t, off64_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*preadv)(int, const struct iovec *, int, off_t);
    ssize_t (*preadv64)(int, const struct iovec *, int, off64_t);
    ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
    ssize_t (*preadv64v2)(int, const struct iovec *, int, off64_t, int);
    ssize_t (*__read_chk)(int, void *, size_t, size_t);
    ssize_t (*__pread_chk)(int, void *, size_t, off_t, size_t);
    ssize_t (*__pread64_chk)(int, void *, size_t, off64_t, size_t);
    size_t (*fread)(void *, size_t, size_t, FILE *);
    size_t (*fread_unlocked)(void *, size_t, size_t, FILE *);
    size_t (*__fread_chk)(void *, size_t, size_t, size_t, FILE *);
    size_t (*__fread_unlocked_chk)(void *, size_t, size_t, size_t, FILE *);
    char *(*fgets)(char *, int, FILE *);
    char *(*fgets_unlocked)(char *, int, FILE *);
    char *(*__fgets_chk)(char *, size_t, int, FILE *);
    char *(*__fgets_unlocked_chk)(char *, size_t, int, FILE *);
    ssize_t (*getline)(char **, size_t *, FILE *);
    ssize_t (*getdelim)(char **, size_t *, int, FILE *);
    ssize_t (*__getdelim)(char **, size_t *, int, FILE *);
    int (*fgetc)(FILE *);
    int (*getc)(FILE *);
    int (*_IO_getc)(FILE *);
    int (*fgetc_unlocked)(FILE *);
    int (*getc_unlocked)(FILE *);
    int (*getchar)(void);
    int (*getchar_unlocked)(void);
    /* The program's stdin: inside this library the name is jansson's
     * private stand-in (jansson_link.c), so it is looked up by name. */
    FILE **stdin_ref;
    int (*__uflow)(FILE *);
    int (*__underflow)(FILE *);
};
extern struct hu_real hu_real HU_HIDDEN;
extern int hu_bound HU_HIDDEN;

/* Depth of the library's own work on this thread: while non-zero every
 * wrapper passes straight through.  initial-exec: no allocation on first
 * touch, which matters inside malloc-free paths. */
extern __thread int hu_guard __attribute__((tls_model("initial-exec"))) HU_HIDDEN;

void hu_bind(void) HU_HIDDEN;
/* The policy in force; loads it (once) on first use. */
const hu_policy *hu_policy_get(void) HU_HIDDEN;

/* Bound, and no connection being retried anywhere: the wait wrappers'
 * whole fast path. */
extern int hu_conns_active HU_HIDDEN;
static inline int hu_ready_and_idle(void)
{
    return __atomic_load_n(&hu_bound, __ATOMIC_ACQUIRE) &&
           !__atomic_load_n(&hu_conns_active, __ATOMIC_RELAXED);
}

static inline void hu_ensure_bound(void)
{
    if (HU_UNLIKELY(!__atomic_load_n(&hu_bound, __ATOMIC_ACQUIRE)))
        hu_bind();
}

/* ---- retry helpers (retry.c) ---- */
int64_t hu_now_ms(void) HU_HIDDEN;
/* Sleep; 0 when the time passed, EINTR when a signal handler ran. */
int hu_sleep_ms(unsigned ms) HU_HIDDEN;
/* After EINTR: would a plain blocking call have returned EINTR?  True when
 * some installed handler lacks SA_RESTART. */
int hu_signal_wants_eintr(void) HU_HIDDEN;
/* The backoff wait of every retry loop, called under the guard.  Returns
 * EINTR early when interruptible and a handler without SA_RESTART ran
 * (see hu_signal_wants_eintr); otherwise sleeps the whole delay. */
int hu_backoff_wait(unsigned delay_ms, int interruptible) HU_HIDDEN;
hu_rng *hu_thread_rng(void) HU_HIDDEN;
void hu_retry_atfork_child(void) HU_HIDDEN;

typedef struct hu_lookup hu_lookup;

/* ---- name memory (names.c): which host name produced which address ---- */
void hu_names_remember(const char *host, const struct sockaddr *sa) HU_HIDDEN;
/* Copies the name into buf and returns 1 when known. */
int hu_names_lookup(const struct sockaddr *sa, char *buf, size_t len) HU_HIDDEN;
void hu_names_remember_ai(const char *host, const struct addrinfo *ai) HU_HIDDEN;
void hu_names_remember_hostent(const char *host, const struct hostent *he) HU_HIDDEN;
void hu_names_atfork_prepare(void) HU_HIDDEN;
void hu_names_atfork_release(void) HU_HIDDEN;
int hu_is_numeric_host(const char *node) HU_HIDDEN;
/* Hosts that move: the name that produced an address, looked up again
 * through the real resolver on a helper thread (lookup.c), same family.
 * hu_names_relookup starts it (NULL: no helper); hu_names_moved waits for
 * it until until_ms and returns -1 while it is still running (the caller
 * keeps it), else 1 with the new address (sa's port kept) in out when the
 * name no longer has sa's address but has another one, or 0; the lookup
 * is then finished and dropped. */
hu_lookup *hu_names_relookup(const char *host, const struct sockaddr *sa) HU_HIDDEN;
int hu_names_moved(hu_lookup *l, const char *host, const struct sockaddr *sa, int64_t until_ms,
                   struct sockaddr_storage *out, socklen_t *outlen) HU_HIDDEN;

/* ---- lookups bounded in time (lookup.c) ---- */
#define HU_LOOKUP_PENDING 1     /* not an EAI code: those are <= 0 */
/* hu_real.getaddrinfo on a helper thread; NULL when no helper can be had
 * (too many alive, or no thread). */
hu_lookup *hu_lookup_start(const char *node, const char *service,
                           const struct addrinfo *hints) HU_HIDDEN;
/* Waits until the lookup ends or until_ms (hu_now_ms() time).  Returns its
 * EAI code, *res then owned by the caller, or HU_LOOKUP_PENDING. */
int hu_lookup_wait(hu_lookup *l, int64_t until_ms, struct addrinfo **res, int *err) HU_HIDDEN;
/* The caller is done with it; a running lookup is abandoned. */
void hu_lookup_drop(hu_lookup *l) HU_HIDDEN;
void hu_lookup_atfork_child(void) HU_HIDDEN;
/* getaddrinfo whose wait is cut at timeout_ms (EAI_AGAIN, *timed_out = 1,
 * the look-up left running in *pending, which the caller drops at the end
 * of its call); with no helper to be had it waits on *pending, or makes
 * the plain call. */
int hu_getaddrinfo_bounded(const char *node, const char *service, const struct addrinfo *hints,
                           struct addrinfo **res, unsigned timeout_ms, hu_lookup **pending,
                           int *timed_out) HU_HIDDEN;

#endif
