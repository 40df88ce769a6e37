/* SPDX-License-Identifier: MIT */
/* fd -> what the library knows about that descriptor: the connection being
 * retried on it, and its epoll registration (recorded for every fd, since
 * programs like nginx register a socket before they connect it). */
#ifndef HOSTUP_FDTABLE_H
#define HOSTUP_FDTABLE_H

#include <stdint.h>
#include <sys/types.h>

struct hu_conn;
struct hu_file;

typedef struct hu_fdent {
    struct hu_conn *conn;   /* non-NULL while a connect on it is tracked */
    int epfd;               /* last epoll instance it was added to; -1 none */
    uint32_t ep_events;
    uint64_t ep_data;
    struct hu_file *file;   /* non-NULL: a file opened on a network volume */
} hu_fdent;

#define HU_FD_CHUNK_BITS 12
#define HU_FD_CHUNK (1 << HU_FD_CHUNK_BITS)
#define HU_FD_NCHUNKS (1 << (31 - HU_FD_CHUNK_BITS))   /* every non-negative int */
extern hu_fdent *hu_fd_chunks[HU_FD_NCHUNKS] __attribute__((visibility("hidden")));
/* Non-zero once the table holds any chunk: until then close() looks at
 * nothing else (one load). */
extern int hu_fd_any __attribute__((visibility("hidden")));

/* Entry for fd, or NULL when the table never held it.  Inline and
 * lock-free (chunks are never freed): close() and connect() call it on
 * every fd. */
static inline hu_fdent *hu_fd_get(int fd)
{
    if (fd < 0 || !__atomic_load_n(&hu_fd_any, __ATOMIC_ACQUIRE))
        return 0;
    hu_fdent *c = __atomic_load_n(&hu_fd_chunks[fd >> HU_FD_CHUNK_BITS], __ATOMIC_ACQUIRE);
    return c ? &c[fd & (HU_FD_CHUNK - 1)] : 0;
}
/* The read wrappers' whole fast path: one byte per fd below
 * HU_FD_FILE_MAX, non-zero while hu_fdent.file is set (written under the
 * table lock, read without it).  Larger fds always take the slow path,
 * which consults the table. */
#define HU_FD_FILE_MAX 65536
extern unsigned char hu_fd_file_flag[HU_FD_FILE_MAX] __attribute__((visibility("hidden")));
static inline int hu_fd_maybe_file(int fd)
{
    return (unsigned)fd >= HU_FD_FILE_MAX ||
           __atomic_load_n(&hu_fd_file_flag[(unsigned)fd], __ATOMIC_RELAXED);
}

/* Entry for fd, allocating its chunk; NULL only when out of memory or
 * fd < 0.  Call with hu_table_lock held. */
hu_fdent *hu_fd_make(int fd);

/* The table is keyed by number, and a program can close a descriptor where
 * no wrapper sees it (libuv's syscall(SYS_close), close_range, closefrom, a
 * library loaded with RTLD_DEEPBIND): the next socket, file or pipe gets the
 * same number.  What an entry knows belongs to one socket or file, so it
 * remembers which and is checked against these before it is used (stale.h
 * for connections, volume.c for files).  Both preserve errno.
 * The identity of the socket open at fd: its SO_COOKIE (Linux 4.12+), or on
 * older kernels its inode number (tagged: the two never compare equal); 0
 * when fd is not an open socket. */
uint64_t hu_sock_id(int fd) __attribute__((visibility("hidden")));
/* Is fd now something else than the file (dev, ino)?  Cached attributes
 * only (a dead server must not block the check); a file that cannot be
 * examined (a stale handle) counts as the same, a closed fd does not. */
int hu_fd_other_file(int fd, dev_t dev, ino_t ino) __attribute__((visibility("hidden")));

/* One lock for the table and every connection's state. */
void hu_table_lock(void);
void hu_table_unlock(void);
void hu_table_atfork_child(void);

#endif
