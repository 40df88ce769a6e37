/* SPDX-License-Identifier: MIT */
/* The real calls: the next definition of every call the library wraps
 * (the list is calls.def), as dlsym(RTLD_NEXT) finds it, so that libraries
 * preloaded after us are still reached, and the recursion guard.  Inside
 * the library a wrapped call is made only through hu_real, never by its
 * name (that would reach our own wrapper; `make lint` checks).
 *
 * Each call is bound on its first use, not at start-up (binding all 82
 * cost every exec ~71,000 instructions): hu_real starts out pointing at
 * one small binder per call (real.c), which looks the call up, stores it
 * in hu_real and calls it.  So hu_real.name is always callable, on any
 * thread, before our constructor has run and from a signal handler (the
 * look-up reads the loaded objects' tables: elfsym.c).  A call that is
 * missing from libc is bound to one that fails with ENOSYS. */
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
/* State that the fork handlers write (locks, flags): kept together in .data,
 * away from the large zeroed tables, so that a fork copies one or two pages
 * on write in the parent and the child rather than one page per lock. */
#define HU_FORK_STATE __attribute__((section(".data.hu_fork")))
/* The fork handlers' code, together for the same reason: the child of a
 * fork maps each page of our code it runs afresh. */
#define HU_FORK_CODE __attribute__((section(".text.hot.hu_fork")))
/* A lock made new in the child of a fork (no other thread exists there) by
 * a store, not pthread_mutex_init: a call the parent never made is bound
 * lazily again in every child, a symbol look-up per fork. */
#define HU_MUTEX_RESET(m) (*(m) = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER)

struct hu_real {
#define HU_CALL(ret, name, params, args) ret (*name) params; /* NOLINT(bugprone-macro-parentheses): a declarator */
#define HU_CALL_VA(ret, name, params, last, args) ret (*name) params; /* NOLINT(bugprone-macro-parentheses) */
#define HU_EXPORT(name)
#include "calls.def"
#undef HU_CALL
#undef HU_CALL_VA
#undef HU_EXPORT
};
extern struct hu_real hu_real HU_HIDDEN;
/* Always 1 now that every call binds itself (kept for the fast paths that
 * still test it: engine/conn.h). */
extern int hu_bound HU_HIDDEN;

/* The program's stdin: inside this library the name is jansson's private
 * stand-in (jansson_link.c), so it is looked up by name (once). */
FILE **hu_real_stdin_ref(void) HU_HIDDEN;
/* The real dlopen, bound, never its binder (NULL: missing); real.c */
void *hu_real_dlopen_now(void) HU_HIDDEN;

/* Depth of the library's own work on this thread: while non-zero every
 * wrapper passes straight through.  initial-exec: no allocation on first
 * touch, which matters inside malloc-free paths. */
extern __thread int hu_guard __attribute__((tls_model("initial-exec"))) HU_HIDDEN;

/* Nothing to do any more: each call binds itself on first use.  Kept so
 * that the wrappers being rewritten elsewhere merge; to be removed. */
static inline void hu_ensure_bound(void) {}

#endif
