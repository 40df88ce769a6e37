/* The shared file: where it lives, how it is opened safely, and the reads
 * `hostup status`/`metrics` and the library both need (see shared.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared.h"
#include "sys/sysio.h"

const char *const hu_giveup_names[HU_GU_N] = {"attempts", "deadline", "budget", "error"};
const unsigned hu_shm_hist_ms[HU_SHM_HIST - 1] = {50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000};

int64_t hu_shm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
    struct stat st;
    if (hu_sys_stat("/proc/self/ns/net", &st) == 0)
        snprintf(buf, len, "/dev/shm/hostup-%u-net%llu", (unsigned)geteuid(),
                 (unsigned long long)st.st_ino);
    else
        snprintf(buf, len, "/dev/shm/hostup-%u", (unsigned)geteuid());
    return 0;
}

static int raw_open(const char *path, int flags, mode_t mode)
{
    /* a raw call: the library's own open wrappers must not see it */
    return hu_sys_open(path, flags | O_NOFOLLOW | O_CLOEXEC, mode);
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

/* A new file appears under its name only once initialised: written under
 * a private name, then linked into place (link fails if another process
 * won the race, and then we use theirs). */
static int create(const char *path)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.new.%d.%ld", path, (int)getpid(),
                         (long)syscall(SYS_gettid)) >= sizeof tmp)
        return -1;
    int fd = raw_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    int ok = 0;
    if (fchmod(fd, 0600) == 0 && ftruncate(fd, (off_t)sizeof(struct hu_shm)) == 0) {
        struct hu_shm *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            init_header(m);
            munmap(m, sizeof *m);
            ok = link(tmp, path) == 0 || errno == EEXIST;
        }
    }
    unlink(tmp);
    hu_sys_close(fd);
    return ok ? 0 : -1;
}

struct hu_shm *hu_shm_open(const char *path, int readonly, const char **why)
{
    int saved = errno;
    struct hu_shm *m = NULL;
    int fd = raw_open(path, readonly ? O_RDONLY : O_RDWR, 0);
    if (fd < 0 && errno == ENOENT && !readonly && create(path) == 0)
        fd = raw_open(path, O_RDWR, 0);
    struct stat st;
    if (fd < 0) {
        *why = errno == ELOOP ? "the path is a symbolic link" : errno == ENOENT ? "no such file"
               : "cannot open it";
    } else if (hu_sys_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *why = "not a regular file";
    } else if (st.st_uid != geteuid()) {
        *why = "owned by another user";
    } else if (st.st_mode & 077) {
        *why = "group or others have access (mode must be 0600)";
    } else if (st.st_size != (off_t)sizeof(struct hu_shm)) {
        *why = "wrong size: another version, or not a hostup file";
    } else {
        m = mmap(NULL, sizeof *m, readonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            m = NULL;
            *why = "cannot map it";
        } else if (__atomic_load_n(&m->magic, __ATOMIC_ACQUIRE) != HU_SHM_MAGIC ||
                   m->version != HU_SHM_VERSION || m->size != sizeof *m ||
                   m->nslots != HU_SHM_SLOTS || m->nwaiters != HU_SHM_WAITERS) {
            munmap(m, sizeof *m);
            m = NULL;
            *why = "bad header: corrupt, or another version";
        }
    }
    if (fd >= 0)
        hu_sys_close(fd);      /* the map stays */
    errno = saved;
    return m;
}

void hu_shm_close(struct hu_shm *m)
{
    if (m)
        munmap(m, sizeof *m);
}

int hu_shm_alive(int32_t pid, int32_t tid)
{
    if (pid <= 0)
        return 0;
    int saved = errno;
    long rc = tid > 0 ? syscall(SYS_tgkill, pid, tid, 0) : kill(pid, 0);
    int alive = rc == 0 || errno != ESRCH;
    errno = saved;
    return alive;
}

void hu_shm_window(const struct hu_shm *m, int64_t sec, uint64_t *first, uint64_t *retries)
{
    *first = *retries = 0;
    for (int i = 0; i < HU_SHM_WINDOW; i++) {
        const struct hu_shm_bucket *b = &m->budget[i];
        int64_t s = __atomic_load_n(&b->sec, __ATOMIC_ACQUIRE);
        if (s > sec - HU_SHM_WINDOW && s <= sec) {
            *first += __atomic_load_n(&b->first, __ATOMIC_RELAXED);
            *retries += __atomic_load_n(&b->retries, __ATOMIC_RELAXED);
        }
    }
}

long hu_shm_budget_left(const struct hu_shm *m, int64_t now_ms, int pct, unsigned min_per_s)
{
    if (pct < 0)
        return -1;
    uint64_t first, retries;
    hu_shm_window(m, now_ms / 1000, &first, &retries);
    uint64_t allowed = first * (uint64_t)pct / 100 + (uint64_t)min_per_s * HU_SHM_WINDOW;
    return retries >= allowed ? 0 : (long)(allowed - retries);
}

void hu_shm_waiting(const struct hu_shm *m, unsigned slot, unsigned *threads, unsigned *procs)
{
    int32_t seen[HU_SHM_WAITERS] = {0};   /* 8 KiB: the CLI calls this, never the library */
    unsigned nseen = 0;
    *threads = *procs = 0;
    for (unsigned i = 0; i < HU_SHM_WAITERS; i++) {
        const struct hu_shm_waiter *w = &m->waiters[i];
        int32_t tid = __atomic_load_n(&w->tid, __ATOMIC_ACQUIRE), pid = w->pid;
        if (!tid || w->slot != slot || !hu_shm_alive(pid, tid))
            continue;
        (*threads)++;
        unsigned k = 0;
        while (k < nseen && seen[k] != pid)
            k++;
        if (k == nseen) {
            (*procs)++;
            if (nseen < sizeof seen / sizeof seen[0])
                seen[nseen++] = pid;
        }
    }
}

void hu_shm_target(const struct hu_shm_slot *s, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (s->family == AF_INET6) {
        inet_ntop(AF_INET6, s->addr, a, sizeof a);
        snprintf(buf, len, "[%s]:%u", a, s->port);
    } else {
        inet_ntop(AF_INET, s->addr, a, sizeof a);
        snprintf(buf, len, "%s:%u", a, s->port);
    }
}
