/* SPDX-License-Identifier: MIT */
/* The calls that lived in libpthread and libdl before glibc 2.34
 * (optlibs.c): referenced weakly, so the library names neither library
 * as needed and loading them does not cost every exec (~24,000
 * instructions for the two).  On glibc 2.34+ and musl they are libc's and
 * always there.  On an older glibc they are there when the program loaded
 * the library itself (any threaded program has libpthread); when it did
 * not, the process has one thread, and: a once runs inline, no helper
 * thread starts (look-ups are not bounded by timeout=, libc's own
 * timeouts apply) and records carry no backtrace. */
#ifndef HOSTUP_SYS_OPTLIBS_H
#define HOSTUP_SYS_OPTLIBS_H

#include <dlfcn.h>
#include <pthread.h>

#define HU_OPT_HIDDEN __attribute__((visibility("hidden")))

void hu_once(pthread_once_t *once, void (*fn)(void)) HU_OPT_HIDDEN;
/* pthread_create, with the stack size set; ENOSYS without libpthread */
int hu_thread_start(pthread_attr_t *a, size_t stack, void *(*fn)(void *), void *arg) HU_OPT_HIDDEN;
void *hu_dlopen(const char *name, int flags) HU_OPT_HIDDEN;
void *hu_dlsym(void *handle, const char *name) HU_OPT_HIDDEN;
int hu_dladdr(const void *addr, Dl_info *info) HU_OPT_HIDDEN;
/* dladdr, and the size of the symbol it names (0: unknown, as on musl) */
int hu_dladdr_sized(const void *addr, Dl_info *info, size_t *size) HU_OPT_HIDDEN;

#endif
