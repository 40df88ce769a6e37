/* SPDX-License-Identifier: MIT */
/* Removing shared files nobody uses (see shared.h, hu_shm_prune): one file
 * per user and network namespace would otherwise pile up in /dev/shm as
 * namespaces come and go.  Raw system calls only (getdents64, no opendir):
 * the library calls this too, once, when it creates a file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared.h"
#include "sys/sysio.h"

#define MAX_CANDIDATES 256

struct dent64 {
    unsigned long long ino;
    long long off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

struct candidates {
    char path[MAX_CANDIDATES][128];
    int mapped[MAX_CANDIDATES];
    int n;
};

/* Calls fn(dir, name, ctx) for every entry of dir. */
static void each_entry(const char *dir, void (*fn)(const char *, const char *, void *), void *ctx)
{
    int fd = hu_sys_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd < 0)
        return;
    char buf[4096] __attribute__((aligned(8)));
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
        for (long at = 0; at < n;) {
            const struct dent64 *d = (const struct dent64 *)(buf + at);
            at += d->reclen;
            if (strcmp(d->name, ".") != 0 && strcmp(d->name, "..") != 0)
                fn(dir, d->name, ctx);
        }
    hu_sys_close(fd);
}

struct scan {
    struct candidates *c;
    const char *keep;
    const char *prefix;     /* names to look at ("" all) */
    long max_age_s;
    time_t now;
};

static void consider(const char *dir, const char *name, void *ctx)
{
    struct scan *s = ctx;
    struct stat st;
    char path[128];
    if (strncmp(name, s->prefix, strlen(s->prefix)) != 0 || s->c->n >= MAX_CANDIDATES ||
        (size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return;
    if (strcmp(path, s->keep) == 0 ||
        syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || st.st_uid != geteuid() || s->now - st.st_mtime < s->max_age_s)
        return;
    snprintf(s->c->path[s->c->n], sizeof s->c->path[0], "%s", path);
    s->c->mapped[s->c->n++] = 0;
}

/* Marks the candidates that /proc/PID/maps names. */
static void scan_maps(const char *proc, const char *pid, void *ctx)
{
    struct candidates *c = ctx;
    char path[64], buf[65536 + 160];
    if (pid[0] < '1' || pid[0] > '9' || (size_t)snprintf(path, sizeof path, "%s/%s/maps", proc, pid) >= sizeof path)
        return;
    int fd = hu_sys_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return;
    size_t keep = 0;
    ssize_t n;
    /* a name may straddle two reads: the last 150 bytes are read again */
    while ((n = hu_sys_read(fd, buf + keep, sizeof buf - keep)) > 0) {
        size_t len = keep + (size_t)n;
        for (int i = 0; i < c->n; i++) {
            char needle[140];
            int k = snprintf(needle, sizeof needle, "%s\n", c->path[i]);
            if (!c->mapped[i] && memmem(buf, len, needle, (size_t)k))
                c->mapped[i] = 1;
        }
        keep = len > 150 ? 150 : len;
        memmove(buf, buf + len - keep, keep);
    }
    hu_sys_close(fd);
}

int hu_shm_prune(const char *keep, long max_age_s, int only_unmapped, void (*report)(const char *))
{
    int saved = errno;
    static struct candidates c;     /* 33 KiB: not on a program's stack */
    memset(&c, 0, sizeof c);
    char dir[64], old[64];
    snprintf(dir, sizeof dir, HU_SHM_DIR "%u", (unsigned)geteuid());
    snprintf(old, sizeof old, "hostup-%u-net", (unsigned)geteuid());
    struct scan s = {&c, keep ? keep : "", "", only_unmapped ? 0 : max_age_s, time(NULL)};
    each_entry(dir, consider, &s);
    s.prefix = old;             /* the files of versions before the directory */
    each_entry("/dev/shm", consider, &s);
    if (only_unmapped)
        each_entry("/proc", scan_maps, &c);
    int removed = 0;
    for (int i = 0; i < c.n; i++)
        if (!c.mapped[i] && unlink(c.path[i]) == 0) {
            removed++;
            if (report)
                report(c.path[i]);
        }
    errno = saved;
    return removed;
}
