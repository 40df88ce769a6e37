/* The real calls: the next definition of every call the library wraps
 * (the list is calls.def), bound with dlsym(RTLD_NEXT) so that libraries
 * preloaded after us are still reached, and the recursion guard.  Inside
 * the library a wrapped call is made only through hu_real, never by its
 * name (that would reach our own wrapper; `make lint` checks). */
#ifndef HOSTUP_SYS_REAL_H
#define HOSTUP_SYS_REAL_H

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

#include "musl_compat.h"

#define HU_HIDDEN __attribute__((visibility("hidden")))
#define HU_LIKELY(x) __builtin_expect(!!(x), 1)
#define HU_UNLIKELY(x) __builtin_expect(!!(x), 0)

struct hu_real {
#define HU_CALL(ret, name, params) ret (*name) params; /* NOLINT(bugprone-macro-parentheses): a declarator */
#define HU_EXPORT(name)
#include "calls.def"
#undef HU_CALL
#undef HU_EXPORT
    /* The program's stdin: inside this library the name is jansson's
     * private stand-in (jansson_link.c), so it is looked up by name. */
    FILE **stdin_ref;
};
extern struct hu_real hu_real HU_HIDDEN;
extern int hu_bound HU_HIDDEN;

/* Depth of the library's own work on this thread: while non-zero every
 * wrapper passes straight through.  initial-exec: no allocation on first
 * touch, which matters inside malloc-free paths. */
extern __thread int hu_guard __attribute__((tls_model("initial-exec"))) HU_HIDDEN;

/* Binds every call (dlsym only: safe to repeat, on any thread), errno kept,
 * under the guard (dlsym may itself call what we wrap). */
void hu_bind(void) HU_HIDDEN;

static inline void hu_ensure_bound(void)
{
    if (HU_UNLIKELY(!__atomic_load_n(&hu_bound, __ATOMIC_ACQUIRE)))
        hu_bind();
}

#endif
