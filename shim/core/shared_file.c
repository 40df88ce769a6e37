/* SPDX-License-Identifier: MIT */
/* The shared file itself (see shared.h): where it lives, how it is made and
 * opened so that it can never hurt a program, and how unused ones go.
 *
 * - Where: by default /dev/shm/hostup-UID/netINODE, in a directory of the
 *   user's own (mode 0700).  /dev/shm is writable by everyone: a file of
 *   another user's in our place would be refused, and so would a directory
 *   that is not ours, and then the process runs without shared state.
 * - Made whole: a mapped file whose pages cannot be had (tmpfs full, a
 *   sparse or short file) kills the program with SIGBUS at the first write.
 *   A new file is allocated in full (fallocate) under a private name and
 *   linked into place only then; an existing one whose blocks do not cover
 *   its size is refused.
 * - Gone when unused: every map touches the file's mtime; a default file
 *   untouched for HU_SHM_UNUSED_S is removed when another is created (a
 *   process that still maps it keeps its map, and shares with nobody). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared.h"
#include "sys/readfile.h"
#include "sys/sysio.h"

static void default_dir(char *buf, size_t len)
{
    snprintf(buf, len, HU_SHM_DIR "%u", (unsigned)geteuid());
}

int hu_shm_path(char *buf, size_t len, int secure)
{
    /* a setuid program must not map a file it is pointed at: the default */
    const char *env = secure ? NULL : getenv(HU_SHM_ENV);
    if (env && strcmp(env, "off") == 0)
        return 1;
    if (env && *env) {
        if ((size_t)snprintf(buf, len, "%s", env) >= len)
            return 1;
        return 0;
    }
    /* one file per user and network namespace: an address means the same
     * host only within one network namespace (and the test suites, which
     * all use 198.18.0.2 in namespaces of their own, must not meet) */
    char dir[64];
    default_dir(dir, sizeof dir);
    struct stat st;
    if (hu_sys_stat("/proc/self/ns/net", &st) == 0)
        snprintf(buf, len, "%s/net%llu", dir, (unsigned long long)st.st_ino);
    else
        snprintf(buf, len, "%s/net", dir);
    return 0;
}

static int raw_open(const char *path, int flags, mode_t mode)
{
    /* a raw call: the library's own open wrappers must not see it */
    return hu_sys_open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

/* Is path in the default directory?  Then that directory must be ours
 * (made here when missing): 0, or -1 with *why. */
static int check_dir(const char *path, int create, const char **why)
{
    char dir[64];
    default_dir(dir, sizeof dir);
    size_t n = strlen(dir);
    if (strncmp(path, dir, n) != 0 || path[n] != '/')
        return 0;
    if (create)
        syscall(SYS_mkdirat, AT_FDCWD, dir, 0700);
    struct stat st;
    if (syscall(SYS_newfstatat, AT_FDCWD, dir, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        *why = "no such file";
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        *why = "its directory is not the user's own (mode 0700)";
        return -1;
    }
    return 0;
}

/* Every byte of the file backed by storage: fallocate, or (where the file
 * system has none) zeros written; then the blocks are counted. */
static int allocate(int fd, off_t size)
{
    if (syscall(SYS_fallocate, fd, 0, (off_t)0, size) != 0) {
        if (errno != EOPNOTSUPP && errno != ENOSYS)
            return -1;
        static const char zero[4096];
        for (off_t at = 0; at < size; at += (off_t)sizeof zero) {
            size_t k = size - at < (off_t)sizeof zero ? (size_t)(size - at) : sizeof zero;
            if (syscall(SYS_pwrite64, fd, zero, k, at) != (long)k)
                return -1;
        }
    }
    struct stat st;
    return hu_sys_fstat(fd, &st) == 0 && st.st_size == size && (off_t)st.st_blocks * 512 >= size
               ? 0 : -1;
}

static void init_header(struct hu_shm *m)
{
    m->version = HU_SHM_VERSION;
    m->size = (uint32_t)sizeof *m;
    m->nslots = HU_SHM_SLOTS;
    m->nwaiters = HU_SHM_WAITERS;
    m->created_ms = hu_shm_now_ms();
    __atomic_store_n(&m->magic, HU_SHM_MAGIC, __ATOMIC_RELEASE);
}

/* A new file appears under its name only once allocated and initialised:
 * made under a private name, then linked into place (link fails if
 * another process won the race, and then we use theirs).  Returns 1 when
 * ours is the one linked, 0 when another's is, -1 on failure. */
static int create(const char *path)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.new.%d.%ld", path, (int)getpid(),
                         (long)syscall(SYS_gettid)) >= sizeof tmp)
        return -1;
    int fd = raw_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    int rc = -1;
    if (fchmod(fd, 0600) == 0 && allocate(fd, (off_t)sizeof(struct hu_shm)) == 0) {
        struct hu_shm *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            init_header(m);
            munmap(m, sizeof *m);
            rc = link(tmp, path) == 0 ? 1 : errno == EEXIST ? 0 : -1;
        }
    }
    unlink(tmp);
    hu_sys_close(fd);
    return rc;
}

/* Why the open file fd cannot be used, or NULL. */
static const char *refusal(int fd)
{
    struct stat st;
    if (hu_sys_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return "not a regular file";
    if (st.st_uid != geteuid())
        return "owned by another user";
    if (st.st_mode & 077)
        return "group or others have access (mode must be 0600)";
    if (st.st_size != (off_t)sizeof(struct hu_shm))
        return "wrong size: another version, or not a hostup file";
    if ((off_t)st.st_blocks * 512 < st.st_size)
        return "not wholly allocated (sparse): writing to it could kill the program";
    return NULL;
}

static struct hu_shm *map_checked(int fd, int readonly, const char **why)
{
    struct hu_shm *m = mmap(NULL, sizeof *m, readonly ? PROT_READ : PROT_READ | PROT_WRITE,
                            MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        *why = "cannot map it";
        return NULL;
    }
    if (__atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != HU_SHM_MAGIC || m->version != HU_SHM_VERSION ||
        m->size != sizeof *m || m->nslots != HU_SHM_SLOTS || m->nwaiters != HU_SHM_WAITERS) {
        munmap(m, sizeof *m);
        *why = "bad header: corrupt, or another version";
        return NULL;
    }
    return m;
}

struct hu_shm *hu_shm_open(const char *path, int readonly, const char **why)
{
    int saved = errno, made = 0;
    struct hu_shm *m = NULL;
    *why = NULL;
    if (check_dir(path, !readonly, why) != 0) {
        errno = saved;
        return NULL;
    }
    int fd = raw_open(path, readonly ? O_RDONLY : O_RDWR, 0);
    if (fd < 0 && errno == ENOENT && !readonly) {
        made = create(path);
        if (made < 0)
            *why = "cannot create it in full (no space left?)";
        else
            fd = raw_open(path, O_RDWR, 0);
    }
    if (fd < 0 && !*why)
        *why = errno == ELOOP ? "the path is a symbolic link" : errno == ENOENT ? "no such file"
               : "cannot open it";
    if (fd >= 0 && !(*why = refusal(fd))) {
        m = map_checked(fd, readonly, why);
        if (m && !readonly)
            syscall(SYS_utimensat, fd, NULL, NULL, 0);    /* used now */
    }
    if (fd >= 0)
        hu_sys_close(fd);      /* the map stays */
    /* a new default file: the place to clear away the unused ones */
    if (made == 1 && m)
        hu_shm_prune(path, HU_SHM_UNUSED_S, 0, NULL);
    errno = saved;
    return m;
}

void hu_shm_close(struct hu_shm *m)
{
    if (m)
        munmap(m, sizeof *m);
}

void hu_shm_touch(const char *path)
{
    int saved = errno;
    syscall(SYS_utimensat, AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW);
    errno = saved;
}
