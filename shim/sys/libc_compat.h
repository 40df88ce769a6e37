/* SPDX-License-Identifier: MIT */
/* Forced into every object of the glibc build (-include, see Makefile): it
 * binds the calls that glibc 2.32-2.34 gave new symbol versions to their
 * oldest versions, so libhostup.so and hostup load on glibc 2.17 and later.
 * The old versions are still exported by every newer glibc.  dlsym, dlopen
 * and dladdr lived in libdl and pthread_once in libpthread before 2.34:
 * the library names both as DT_NEEDED, so old glibc loads them.  dlopen
 * is not here: the library defines it (wrap/dlopen.c) and reaches the
 * real one through dlsym.
 *
 * It includes no system header: it comes before each file's _GNU_SOURCE.
 * musl has no symbol versions and no <gnu/libc-version.h>, so it gets none. */
#ifndef HOSTUP_LIBC_COMPAT_H
#define HOSTUP_LIBC_COMPAT_H

#if defined(__has_include)
#if __has_include(<gnu/libc-version.h>)
#if defined(__x86_64__)
#define HU_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define HU_GLIBC_BASE "GLIBC_2.17"
#endif
#endif
#endif

#ifdef HU_GLIBC_BASE
__asm__(".symver dlsym,dlsym@" HU_GLIBC_BASE);
__asm__(".symver dladdr,dladdr@" HU_GLIBC_BASE);
/* backtraces: the size of the symbol dladdr names (core/backtrace.c) */
#if defined(__x86_64__)
__asm__(".symver dladdr1,dladdr1@GLIBC_2.3.3");
#else
__asm__(".symver dladdr1,dladdr1@" HU_GLIBC_BASE);
#endif
__asm__(".symver pthread_once,pthread_once@" HU_GLIBC_BASE);
/* the helper threads of bounded look-ups (lookup.c) */
__asm__(".symver pthread_create,pthread_create@" HU_GLIBC_BASE);
__asm__(".symver pthread_attr_setstacksize,pthread_attr_setstacksize@" HU_GLIBC_BASE);
#endif

#endif
