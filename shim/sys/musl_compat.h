/* SPDX-License-Identifier: MIT */
/* What the library's sources need to build against musl (make musl); on
 * glibc it adds nothing.  Included by hu.h after the system headers.
 *
 * musl up to 1.2.3 maps the LFS64 names (open64, stat64, pread64...) to the
 * plain ones with macros, and the library could not define wrappers of both.
 * The symbols themselves stay in musl for binaries linked against them, so
 * the macros go and both names are wrapped; real.c binds the plain
 * function should a musl lack the 64 one (they are the same call there). */
#ifndef HOSTUP_MUSL_COMPAT_H
#define HOSTUP_MUSL_COMPAT_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef __GLIBC__
#define HU_MUSL 1
#undef open64
#undef openat64
#undef creat64
#undef fopen64
#undef freopen64
#undef stat64
#undef lstat64
#undef fstatat64
#undef pread64
#undef preadv64
/* only ever pointed to: the same layout as struct stat on musl */
struct stat64;
/* musl before 1.2.5 has no statx */
struct statx;
/* the bit of O_TMPFILE that means "tmpfile" (O_TMPFILE includes O_DIRECTORY) */
#ifndef __O_TMPFILE
#define __O_TMPFILE (O_TMPFILE & ~O_DIRECTORY)
#endif
#endif

/* A FILE's descriptor: glibc's FILE is public, musl's is opaque (and its
 * fileno sets errno for a FILE without one, such as fmemopen's). */
static inline int hu_file_fd(FILE *fp)
{
#ifdef HU_MUSL
    int saved = errno;
    int fd = fileno_unlocked(fp);
    if (fd < 0)
        errno = saved;
    return fd;
#else
    return fp->_fileno;
#endif
}

#endif
