/* SPDX-License-Identifier: MIT */
/* Where records go (HOSTUP_LOG), and writing one there without ever
 * blocking the program or landing in its data.
 *
 * - A path is opened non-blocking: a FIFO with no reader fails at once
 *   (ENXIO) instead of hanging in open(2).  What it opens must be a regular
 *   file, a FIFO, a terminal or /dev/null; anything else is refused.
 * - stderr and fd:N are the program's descriptors.  What they were when the
 *   log was chosen (device, inode, type) is remembered; a record is written
 *   only while the number still names that same file.  After close_range
 *   the number may be the program's data file: records are then dropped and
 *   counted, never sent to another descriptor.
 * - No write may block: a pipe is written through a non-blocking
 *   descriptor of its own, a socket with MSG_DONTWAIT; a full pipe or
 *   socket drops the record and counts it, and the count goes into the next
 *   record written ("dropped": N).  SIGPIPE from a reader that went away is
 *   swallowed, never delivered to the program. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "log_dest.h"
#include "sys/sysio.h"

enum { LOG_STDERR, LOG_OFF, LOG_FD, LOG_FILE };
static int log_mode = LOG_STDERR;
static int log_fd = 2;
static char *log_path;
static pthread_mutex_t dest_lock = PTHREAD_MUTEX_INITIALIZER;

/* What a descriptor named: its identity when the log was chosen. */
enum { ID_UNSEEN, ID_CLOSED, ID_OPEN };
struct ident {
    int state;
    dev_t dev;
    ino_t ino;
    mode_t type;        /* S_IFMT bits */
    int usable;         /* a type records may go to */
};
static struct ident err_id;     /* fd 2 */
static struct ident fd_id;      /* fd:N */
static struct ident file_id;    /* the file we opened for a path */

static unsigned long dropped;   /* records lost since the last one written */

/* Records may go to regular files, pipes, sockets, terminals and
 * /dev/null; not to disks, /dev/kmsg, tapes, serial lines' peers... */
static int usable_type(int fd, const struct stat *st)
{
    if (S_ISREG(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))
        return 1;
    if (S_ISCHR(st->st_mode))
        return st->st_rdev == makedev(1, 3) || isatty(fd);
    return 0;
}

static void remember(struct ident *id, int fd)
{
    struct stat st;
    struct ident seen = {ID_CLOSED, 0, 0, 0, 0};
    int saved = errno;
    if (hu_sys_fstat(fd, &st) == 0)
        seen = (struct ident){ID_OPEN, st.st_dev, st.st_ino, st.st_mode & S_IFMT, usable_type(fd, &st)};
    /* threads taking it at once store the same; state goes last */
    id->dev = seen.dev;
    id->ino = seen.ino;
    id->type = seen.type;
    id->usable = seen.usable;
    __atomic_store_n(&id->state, seen.state, __ATOMIC_RELEASE);
    errno = saved;
}

/* fd still names the file id remembers. */
static int still(const struct ident *id, int fd)
{
    struct stat st;
    return id->state == ID_OPEN && hu_sys_fstat(fd, &st) == 0 && st.st_dev == id->dev &&
           st.st_ino == id->ino && (st.st_mode & S_IFMT) == id->type;
}

void hu_log_configure(const char *spec, int secure)
{
    pthread_mutex_lock(&dest_lock);
    log_mode = LOG_STDERR;
    log_fd = 2;
    /* before main(): fd 2 is still what the program was started with */
    remember(&err_id, 2);
    fd_id.state = ID_UNSEEN;
    if (!spec || !*spec || strcmp(spec, "stderr") == 0) {
    } else if (strcmp(spec, "off") == 0) {
        log_mode = LOG_OFF;
    } else if (strncmp(spec, "fd:", 3) == 0) {
        char *end;
        long fd = strtol(spec + 3, &end, 10);
        /* fd:1 would put records into the program's output: refused */
        if (end != spec + 3 && !*end && fd >= 0 && fd != 1 && fd < (1L << 30)) {
            log_mode = LOG_FD;
            log_fd = (int)fd;
            remember(&fd_id, log_fd);
        }
    } else if (!secure) {   /* a setuid program must not append to a path we are handed */
        free(log_path);
        log_path = strdup(spec);
        if (log_path) {
            log_mode = LOG_FILE;
            log_fd = -1;
        }
    }
    pthread_mutex_unlock(&dest_lock);
}

int hu_log_enabled(void) { return log_mode != LOG_OFF; }

unsigned long hu_log_dropped(void) { return __atomic_load_n(&dropped, __ATOMIC_RELAXED); }

void hu_log_settle(unsigned long n) { __atomic_sub_fetch(&dropped, n, __ATOMIC_RELAXED); }

static int drop(void)
{
    __atomic_add_fetch(&dropped, 1, __ATOMIC_RELAXED);
    return HU_LOG_DROPPED;
}

/* write(2) with SIGPIPE held back: a pipe whose reader left answers EPIPE
 * and the signal, which is the program's business only for its own writes. */
static ssize_t write_quiet(int fd, const char *buf, size_t n)
{
    /* raw calls: the kernel's 8-byte mask; pthread_sigmask is a GLIBC_2.32
     * symbol, and the thread's mask is what rt_sigprocmask sets */
    unsigned long pipe_only = 1ul << (SIGPIPE - 1), old = 0, pending = 0;
    const size_t kset = sizeof pipe_only;
    int was_pending = syscall(SYS_rt_sigpending, &pending, kset) == 0 && (pending & pipe_only);
    hu_sys_sigmask(SIG_BLOCK, &pipe_only, &old);
    ssize_t w = hu_sys_write(fd, buf, n);
    int err = errno;
    if (w < 0 && err == EPIPE && !was_pending) {
        struct timespec now = {0, 0};
        syscall(SYS_rt_sigtimedwait, &pipe_only, NULL, &now, kset);
    }
    hu_sys_sigmask(SIG_SETMASK, &old, NULL);
    errno = err;
    return w;
}

/* A pipe the program handed us: its descriptor may be blocking, and
 * O_NONBLOCK on it would change the program's own writes.  A new
 * descriptor of the same pipe through /proc is non-blocking on its own
 * (ENXIO when nobody reads).  Without /proc: write only what cannot block,
 * at most PIPE_BUF bytes into a pipe with room. */
static ssize_t write_handed_pipe(int fd, const char *buf, size_t n)
{
    char path[40];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int own = hu_sys_open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
    if (own >= 0) {
        ssize_t w = write_quiet(own, buf, n);
        int err = errno;
        hu_sys_close(own);
        errno = err;
        return w;
    }
    if (errno == ENXIO) {
        errno = EAGAIN;     /* no reader: as good as full */
        return -1;
    }
    struct pollfd pf = {fd, POLLOUT, 0};
    struct timespec zero = {0, 0};
    if (n <= PIPE_BUF && hu_sys_ppoll(&pf, 1, &zero) == 1 &&
        (pf.revents & (POLLOUT | POLLERR)) == POLLOUT)
        return write_quiet(fd, buf, n);
    errno = EAGAIN;
    return -1;
}

static ssize_t put(int fd, mode_t type, int handed, const char *buf, size_t n)
{
    if (type == S_IFSOCK)
        return syscall(SYS_sendto, fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
    if (type == S_IFIFO)
        return handed ? write_handed_pipe(fd, buf, n) : write_quiet(fd, buf, n);
    return hu_sys_write(fd, buf, n);    /* ours are O_NONBLOCK; a terminal as the program's */
}

/* Open the path (again, when the program closed ours or put its own file
 * on the number).  0, or the errno; *reason for a refused type. */
static int open_path(const char **reason)
{
    if (log_fd >= 0 && still(&file_id, log_fd))
        return 0;
    log_fd = -1;    /* not ours any more: never written, never closed */
    /* raw syscall: our own open wrappers must not see it */
    int fd = hu_sys_open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
                                       O_NOCTTY, 0640);
    if (fd < 0)
        return errno;
    remember(&file_id, fd);
    if (!file_id.usable) {
        hu_sys_close(fd);
        file_id.state = ID_UNSEEN;
        *reason = "not a regular file, FIFO, terminal or /dev/null: records are not written there";
        return EINVAL;
    }
    log_fd = fd;
    return 0;
}

/* The chosen destination failed: from now on, stderr; f says what failed. */
static int give_up_destination(int err, const char *reason, hu_log_failure *f)
{
    if (log_mode == LOG_FILE)
        snprintf(f->dest, sizeof f->dest, "%s", log_path);
    else
        snprintf(f->dest, sizeof f->dest, "fd:%d", log_fd);
    f->err = err;
    f->reason = reason;
    if (log_mode == LOG_FILE && log_fd >= 0)
        hu_sys_close(log_fd);   /* ours: open_path checked it */
    log_fd = 2;
    __atomic_store_n(&log_mode, LOG_STDERR, __ATOMIC_RELEASE);
    return HU_LOG_FAILED;
}

/* stderr, or fd:N: the program's descriptor, while it is what it was. */
/* fd:N failed: stderr from now on, said once (by the thread that switched). */
static int handed_failed(int err, const char *reason, hu_log_failure *f)
{
    int r = HU_LOG_FAILED;
    pthread_mutex_lock(&dest_lock);
    if (log_mode == LOG_FD)
        r = give_up_destination(err, reason, f);
    else
        f->dest[0] = '\0';     /* another thread switched: just write again */
    pthread_mutex_unlock(&dest_lock);
    return r;
}

/* stderr, or fd:N: the program's descriptor, while it is what it was.  No
 * lock here: the identity is fixed once taken, and a lock held by another
 * thread at fork() would stop the child's records for good. */
static int write_handed(int mode, int fd, struct ident *id, const char *line, size_t n,
                        hu_log_failure *f)
{
    if (__atomic_load_n(&id->state, __ATOMIC_ACQUIRE) == ID_UNSEEN)
        remember(id, fd);   /* never configured (the CLI): now */
    if (mode == LOG_FD && id->state == ID_CLOSED)
        return handed_failed(EBADF, NULL, f);   /* fd:N never was open */
    if (mode == LOG_FD && !id->usable)
        return handed_failed(EINVAL, "not a regular file, pipe, socket, terminal or /dev/null: "
                                     "records are not written there", f);
    if (!id->usable || !still(id, fd))
        return drop();      /* closed, or the number is another file now */
    if (put(fd, id->type, 1, line, n) >= 0)
        return 0;
    if (errno == EAGAIN || errno == EWOULDBLOCK || mode == LOG_STDERR)
        return drop();
    return handed_failed(errno, NULL, f);
}

int hu_log_write(const char *line, size_t n, hu_log_failure *f)
{
    int saved = errno, r;
    int mode = __atomic_load_n(&log_mode, __ATOMIC_ACQUIRE);
    if (mode == LOG_OFF) {
        r = HU_LOG_DROPPED;     /* not counted: nothing is wanted */
    } else if (mode == LOG_STDERR) {
        r = write_handed(mode, 2, &err_id, line, n, f);
    } else if (mode == LOG_FD) {
        r = write_handed(mode, log_fd, &fd_id, line, n, f);
    } else {
        /* a path: opened (again) and written under the lock */
        pthread_mutex_lock(&dest_lock);
        const char *reason = NULL;
        int err = log_mode != LOG_FILE ? -1 : open_path(&reason);
        if (err < 0)
            f->dest[0] = '\0', r = HU_LOG_FAILED;  /* another thread switched */
        else if (err)
            r = give_up_destination(err, reason, f);
        else if (put(log_fd, file_id.type, 0, line, n) >= 0)
            r = 0;
        else
            r = errno == EAGAIN ? drop() : give_up_destination(errno, NULL, f);
        pthread_mutex_unlock(&dest_lock);
    }
    errno = saved;
    return r;
}
