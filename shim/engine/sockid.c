/* Socket identity checks for the fd table (see sockid.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "fdtable.h"
#include "hu.h"
#include "sockid.h"
#include "sys/rawstat.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57    /* Linux 4.12; headers of older systems lack it */
#endif
#define INO_TAG (1ULL << 63)

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
        if ((errno == ENOPROTOOPT || errno == EINVAL) && hu_raw_fstat(fd, &st) == 0 &&
            S_ISSOCK(st.st_mode))
            id = (uint64_t)st.st_ino | INO_TAG;
    }
    errno = saved;
    return id;
}

hu_conn *hu_conn_verify(hu_conn *c, int fd)
{
    if (!c || !c->sock_id || hu_sock_id(fd) == c->sock_id)
        return c;
    hu_conn_disown(fd);
    return NULL;
}

hu_conn *hu_conn_of_verified(int fd)
{
    return hu_conn_verify(hu_conn_of(fd), fd);
}

#define SWEEP_MS 1000
static int64_t next_sweep;

void hu_conn_sweep_maybe(void)
{
    int64_t now = hu_now_ms();
    if (now < __atomic_load_n(&next_sweep, __ATOMIC_RELAXED))
        return;
    hu_table_lock();
    if (now >= next_sweep) {
        __atomic_store_n(&next_sweep, now + SWEEP_MS, __ATOMIC_RELAXED);
        for (hu_conn *c = hu_conn_active_head(), *next; c; c = next) {
            next = c->next_active;      /* dropping c takes it off the list */
            if (c->fd >= 0)
                hu_conn_verify(c, c->fd);
        }
    }
    hu_table_unlock();
}
