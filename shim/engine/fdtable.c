/* SPDX-License-Identifier: MIT */
/* The fd table: a two-level array, chunks of 4096 entries allocated on
 * first use, so any fd number works (above 65,536 too) and a lookup is two
 * loads.  Chunks are never freed, which lets readers skip the lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdtable.h"
#include "sys/real.h"
#include "sys/sysio.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57    /* Linux 4.12; headers of older systems lack it */
#endif
#define INO_TAG (1ULL << 63)

#define CHUNK_BITS HU_FD_CHUNK_BITS
#define CHUNK HU_FD_CHUNK

hu_fdent *hu_fd_chunks[HU_FD_NCHUNKS];
int hu_fd_any;
unsigned char hu_fd_file_flag[HU_FD_FILE_MAX];
#define chunks hu_fd_chunks
HU_FORK_STATE static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

hu_fdent *hu_fd_make(int fd)
{
    if (fd < 0)
        return NULL;
    hu_fdent *c = chunks[fd >> CHUNK_BITS];
    if (!c) {
        c = calloc(CHUNK, sizeof *c);
        if (!c)
            return NULL;
        for (int i = 0; i < CHUNK; i++)
            c[i].epfd = -1;
        __atomic_store_n(&hu_fd_any, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&chunks[fd >> CHUNK_BITS], c, __ATOMIC_RELEASE);
    }
    return &c[fd & (CHUNK - 1)];
}

/* Code holding the lock is the library's own: calls it makes into wrapped
 * functions (getsockopt, close, logging, probes) must pass straight through,
 * or they would take the lock again. */
HU_FORK_CODE void hu_table_lock(void)
{
    hu_guard++;
    pthread_mutex_lock(&lock);
}

HU_FORK_CODE void hu_table_unlock(void)
{
    pthread_mutex_unlock(&lock);
    hu_guard--;
}
/* The child of a fork has only the forking thread: whatever another thread
 * held is released by re-initialising. */
HU_FORK_CODE void hu_table_atfork_child(void)
{
    HU_MUTEX_RESET(&lock);
    hu_guard--;     /* taken by hu_table_lock in the prepare handler */
}

uint64_t hu_sock_id(int fd)
{
    int saved = errno;
    uint64_t id = 0;
    socklen_t l = sizeof id;
    if (hu_real.getsockopt(fd, SOL_SOCKET, SO_COOKIE, &id, &l) < 0 || l != sizeof id) {
        id = 0;
        /* a kernel without SO_COOKIE: a socket's inode number is unique
         * among live sockets and not handed out again */
        struct stat st;
        if ((errno == ENOPROTOOPT || errno == EINVAL) && hu_sys_fstat(fd, &st) == 0 &&
            S_ISSOCK(st.st_mode))
            id = (uint64_t)st.st_ino | INO_TAG;
    }
    errno = saved;
    return id;
}

int hu_fd_other_file(int fd, dev_t dev, ino_t ino)
{
    int saved = errno, other;
#if defined(STATX_INO) && defined(SYS_statx)
    struct statx sx;
    if (hu_sys_statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_INO, &sx) == 0)
        other = sx.stx_ino != ino || makedev(sx.stx_dev_major, sx.stx_dev_minor) != dev;
#else   /* musl before 1.2.5: no statx */
    struct stat sx;
    if (hu_sys_fstat(fd, &sx) == 0)
        other = sx.st_ino != ino || sx.st_dev != dev;
#endif
    else if (errno == ENOSYS)   /* a kernel before 4.11: is it open at all? */
        other = hu_real.fcntl(fd, F_GETFD) < 0 && errno == EBADF;
    else
        other = errno == EBADF;
    errno = saved;
    return other;
}
