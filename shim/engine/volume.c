/* SPDX-License-Identifier: MIT */
/* Network volumes (see volume.h).
 *
 * Which files: an open whose file lives on a network file system (its
 * st_dev is a mount whose type hu_fstype_is_network() names, from
 * /proc/self/mountinfo), or whose path falls under a path rule; a rule
 * with `off` turns either off.  The mount table is read at the first file
 * call, and again only when something shows it changed: an opened file on
 * a device the table does not list, or a failing path call (at most once a
 * second).  A process with no network mount and no path rule pays one flag
 * test per open.
 *
 * Recovery: EHOSTDOWN, ETIMEDOUT, ENOTCONN, what a rule adds, a soft NFS
 * mount's slow EIO (volume.h): wait, retry on the same fd.  ESTALE reopens the
 * path with the original flags minus O_CREAT/O_TRUNC/O_EXCL, checks that
 * it is the same file (inode; size and mtime when opened read-only),
 * seeks to the offset the old description had reached, and dup3()s the
 * new description over every fd that shared the old one, keeping
 * FD_CLOEXEC and the status flags.  A different file is never spliced in:
 * the program gets the error and the record says why.  The recovery
 * itself (reopen, the retry loop on the engine's decision, the records)
 * is in volume_retry.c; this file: which files, the mount cache, the
 * tracked files and the start and end of a recovery. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fdtable.h"
#include "hostup/hostup.h"
#include "init.h"
#include "retry.h"
#include "sys/real.h"
#include "core/log.h"
#include "core/mounts.h"
#include "sys/sysio.h"
#include "mount_cache.h"
#include "volume.h"
#include "sys/optlibs.h"

int hu_vol_gate = -1;
dev_t hu_vol_local_devs[HU_LOCAL_DEVS];
int hu_vol_no_path_rules;
uint64_t hu_vol_errnos[HU_ERRNO_MAX / 64];

static hu_rule vol_defaults;
static int have_path_rules;         /* some path rule that is not off */
static int any_path_rules;          /* some path rule, off ones included */
static pthread_once_t vol_once = PTHREAD_ONCE_INIT;

static void set_errno_bits(const hu_rule *r)
{
    for (size_t w = 0; w < HU_ERRNO_MAX / 64; w++)
        hu_vol_errnos[w] |= r->retry_errno[w];
}

static void vol_init_once(void)
{
    int saved = errno;
    hu_guard++;
    const hu_policy *p = hu_policy_get();
    hu_rule_volume_defaults(&vol_defaults);
    set_errno_bits(&vol_defaults);
    hu_vol_errnos[EIO / 64] |= 1ull << (EIO % 64);     /* hu_vol_retries: soft NFS */
    for (size_t i = 0; i < p->nrules; i++) {
        if (p->rules[i].sel.kind != HU_SEL_PATH)
            continue;
        any_path_rules = 1;
        if (!p->rules[i].off) {
            have_path_rules = 1;
            set_errno_bits(&p->rules[i]);
        }
    }
    __atomic_store_n(&hu_vol_no_path_rules, !have_path_rules, __ATOMIC_RELAXED);
    hu_mnt_first_scan(have_path_rules);
    hu_guard--;
    errno = saved;
}

void hu_vol_init(void)
{
    hu_ensure_bound();
    hu_once(&vol_once, vol_init_once);
}

/* ---- tracked files -------------------------------------------------- */

#define POOL 32
static hu_file pool[POOL];
static unsigned char pool_used[POOL];
HU_FORK_STATE static hu_file *all_files;   /* under the table lock */

static hu_file *file_alloc(void)
{
    hu_file *f = NULL;
    for (int i = 0; i < POOL && !f; i++)
        if (!__atomic_exchange_n(&pool_used[i], 1, __ATOMIC_ACQUIRE)) {
            f = &pool[i];
            memset(f, 0, offsetof(hu_file, path));
            f->pooled = 1;
        }
    if (!f && (f = calloc(1, sizeof *f)) == NULL)
        return NULL;
    pthread_mutex_init(&f->mu, NULL);
    return f;
}

static void file_unref_locked(hu_file *f)
{
    if (--f->refs > 0)
        return;
    if (f->prev)
        f->prev->next = f->next;
    else if (all_files == f)
        all_files = f->next;
    if (f->next)
        f->next->prev = f->prev;
    pthread_mutex_destroy(&f->mu);
    if (f->pooled)
        __atomic_store_n(&pool_used[f - pool], 0, __ATOMIC_RELEASE);
    else
        free(f);    /* NOLINT(clang-analyzer-unix.Malloc): only when not pooled */
}

static void set_flag(int fd, int on)
{
    if ((unsigned)fd < HU_FD_FILE_MAX)
        __atomic_store_n(&hu_fd_file_flag[fd], (unsigned char)on, __ATOMIC_RELAXED);
}

void hu_vol_forget_fd(int fd)
{
    hu_fdent *e = hu_fd_get(fd);
    if (!e || !e->file)
        return;
    hu_file *f = e->file;
    e->file = NULL;
    set_flag(fd, 0);
    for (int i = 0; i < f->nfds; i++)
        if (f->fds[i] == fd) {
            f->fds[i] = f->fds[--f->nfds];
            break;
        }
    file_unref_locked(f);
}

void hu_vol_dup(int fd, int fd2)
{
    hu_fdent *e = hu_fd_get(fd), *e2;
    if (!e || !e->file || !(e2 = hu_fd_make(fd2)))
        return;
    if (hu_fd_other_file(fd, e->file->dev, e->file->ino)) {
        hu_vol_forget_fd(fd);
        return;
    }
    if (e2->file)
        hu_vol_forget_fd(fd2);
    hu_file *f = e->file;
    e2->file = f;
    f->refs++;
    if (f->nfds < HU_FILE_FDS)
        f->fds[f->nfds++] = fd2;
    set_flag(fd2, 1);
}

void hu_vol_forget(int fd)
{
    hu_table_lock();
    hu_vol_forget_fd(fd);
    hu_table_unlock();
}

/* The kernel's name for what fd refers to. */
static int fd_path(int fd, char *buf, size_t len)
{
    char link[40];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, len - 1);
    if (n <= 0 || (size_t)n >= len - 1 || buf[0] != '/')
        return -1;
    buf[n] = '\0';
    return 0;
}

static int is_deleted(const char *p)
{
    size_t n = strlen(p);
    return n > 10 && strcmp(p + n - 10, " (deleted)") == 0;
}

/* Absolute, lexically normalised form of path as seen from dirfd. */
static int abs_path(int dirfd, const char *path, char *out, size_t len)
{
    char base[PATH_MAX], joined[PATH_MAX * 2];
    if (!path)
        return -1;
    if (path[0] == '/')
        return hu_path_normalize(path, out, len) ? 0 : -1;
    if (dirfd == AT_FDCWD) {
        if (!getcwd(base, sizeof base))
            return -1;
    } else if (fd_path(dirfd, base, sizeof base) < 0)
        return -1;
    snprintf(joined, sizeof joined, "%s/%s", base, path);
    return hu_path_normalize(joined, out, len) ? 0 : -1;
}

static const hu_rule *path_rule(const char *abs)
{
    return any_path_rules ? hu_policy_match_path(hu_policy_get(), abs) : NULL;
}

void hu_vol_opened(int fd, int flags, int dirfd, const char *path)
{
    int saved = errno;
    hu_guard++;
    if (__atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) < 0)
        hu_vol_init();
    if (hu_fd_maybe_file(fd))               /* closed behind our back */
        hu_vol_forget(fd);
    struct stat st;
    char canon[PATH_MAX], given[PATH_MAX];
    if (!__atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) || (flags & O_PATH) ||
        hu_sys_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        goto out;
    const hu_mountdesc *mnt = hu_mnt_for_dev(st.st_dev);
    const hu_rule *r = NULL;
    int have_canon = 0;
    if (any_path_rules) {
        have_canon = fd_path(fd, canon, sizeof canon) == 0;
        if (have_canon)
            r = path_rule(canon);
        if (!r && abs_path(dirfd, path, given, sizeof given) == 0)
            r = path_rule(given);       /* a rule on a symlinked path */
    }
    if (r && r->off)
        goto out;
    if (!r && mnt && mnt->network) {
        /* `/mnt/nfs off` may name the mount point itself */
        r = path_rule(mnt->point);
        if (r && r->off)
            goto out;
        r = &vol_defaults;
    }
    if (!r) {
        if (!mnt || !mnt->network)
            hu_mnt_note_local(st.st_dev);
        goto out;
    }
    if (!have_canon && fd_path(fd, canon, sizeof canon) < 0)
        goto out;
    if (is_deleted(canon))
        goto out;
    hu_file *f = file_alloc();
    if (!f)
        goto out;
    f->flags = flags;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtime = st.st_mtim;
    f->rule = r;
    f->mnt = mnt;
    snprintf(f->path, sizeof f->path, "%s", canon);
    f->refs = 1;
    hu_table_lock();
    hu_fdent *e = hu_fd_make(fd);
    if (!e) {
        file_unref_locked(f);
        hu_table_unlock();
        goto out;
    }
    if (e->file)
        hu_vol_forget_fd(fd);
    e->file = f;
    f->fds[0] = fd;
    f->nfds = 1;
    f->next = all_files;
    f->prev = NULL;
    if (all_files)
        all_files->prev = f;
    all_files = f;
    set_flag(fd, 1);
    hu_table_unlock();
out:
    hu_guard--;
    errno = saved;
}

/* ---- recovery ------------------------------------------------------- */

static void try_init(hu_vol_try *t, const char *op, const hu_rule *r)
{
    t->op = op;
    t->rule = r;
    /* a volume call may wait; it has no name to look up again */
    hu_decide_init(&t->a, r, hu_now_ms(), 0, 1, 0, 0);
    t->begun = 1;
}

int hu_vol_path_begin(hu_vol_try *t, const char *op, int dirfd, const char *path, int err)
{
    memset(t, 0, offsetof(hu_vol_try, pathbuf));
    t->fd = -1;
    t->offset = -1;
    if (__atomic_load_n(&hu_vol_gate, __ATOMIC_ACQUIRE) < 0)
        hu_vol_init();
    if (abs_path(dirfd, path, t->pathbuf, sizeof t->pathbuf) < 0)
        return 0;
    const hu_rule *r = path_rule(t->pathbuf);
    if (r && r->off)
        return 0;
    const hu_mountdesc *mnt = hu_mnt_for_path(t->pathbuf);
    if (!r) {
        if (!mnt || !mnt->network)
            return 0;
        r = &vol_defaults;
    }
    if (!hu_vol_retries(r, mnt, 1, 0, err))
        return 0;
    t->path = t->pathbuf;
    t->mnt = mnt;
    try_init(t, op, r);
    return 1;
}

int hu_vol_fd_begin(hu_vol_try *t, const char *op, int fd, long long offset, int err)
{
    memset(t, 0, offsetof(hu_vol_try, pathbuf));
    t->fd = fd;
    t->offset = offset;
    hu_table_lock();
    hu_fdent *e = hu_fd_get(fd);
    hu_file *f = e ? e->file : NULL;
    if (f)
        f->refs++;
    hu_table_unlock();
    if (!f)
        return 0;
    if (hu_fd_other_file(fd, f->dev, f->ino)) {
        hu_table_lock();
        if (e->file == f)
            hu_vol_forget_fd(fd);
        file_unref_locked(f);
        hu_table_unlock();
        return 0;
    }
    if (!hu_vol_retries(f->rule, f->mnt, 1, 0, err)) {
        hu_table_lock();
        file_unref_locked(f);
        hu_table_unlock();
        return 0;
    }
    t->file = f;
    t->mnt = f->mnt;
    t->path = f->path;
    if (t->offset < 0)
        t->offset = lseek(fd, 0, SEEK_CUR);
    try_init(t, op, f->rule);
    return 1;
}

void hu_vol_end(hu_vol_try *t)
{
    if (t->file) {
        hu_table_lock();
        file_unref_locked(t->file);
        hu_table_unlock();
        t->file = NULL;
    }
}

/* ---- fork ------------------------------------------------------------ */

HU_FORK_CODE void hu_vol_atfork_prepare(void) { hu_mnt_atfork_prepare(); }
HU_FORK_CODE void hu_vol_atfork_parent(void) { hu_mnt_atfork_parent(); }
/* Called with the table lock re-initialised: no other thread exists. */
HU_FORK_CODE void hu_vol_atfork_child(void)
{
    hu_mnt_atfork_child();
    for (hu_file *f = all_files; f; f = f->next)
        HU_MUTEX_RESET(&f->mu);
}
