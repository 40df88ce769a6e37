/* SPDX-License-Identifier: MIT */
/* hu_flakyfs: a FUSE file system that serves the files of a backing
 * directory and fails on command, standing in for a flaky network volume
 * (this kernel has no NFS client; FUSE passes any errno a daemon returns
 * straight to the program, as NFS and CIFS clients do).
 *
 *   hu_flakyfs --backing=DIR [--log=FILE] MOUNTPOINT -f [-o subtype=sshfs,fsname=u@srv:/x]
 *
 * Commands are written to the control file MOUNTPOINT/.hu_ctl, one per
 * line; the write returns once the command is in force, so a test knows
 * the failure is armed.  The control file itself never fails.
 *   down SECS ERRNO       every operation fails with ERRNO (EHOSTDOWN,
 *                         ETIMEDOUT, EIO, ENOTCONN, EHOSTUNREACH, ESTALE)
 *                         for SECS seconds (fractions allowed)
 *   up                    end an outage now
 *   stale PATH N          every open handle of PATH turns stale for good
 *                         (ESTALE, as an NFS handle after a server lost it)
 *                         and the next N lookups/opens of PATH fail too
 *   slow MS               every operation waits MS milliseconds first
 *   at PATH OFFSET CMD    run CMD when a read of PATH reaches OFFSET
 *                         (bytes; K/M/G suffixes): that read already sees it
 *   clear                 forget every failure and trigger
 * Like an NFS server, a handle whose file was replaced under its name
 * (the backing inode changed) returns ESTALE.  Reads and writes bypass the
 * page cache (direct_io), so every one reaches the daemon and every
 * failure reaches the program.  Each failure it returns and each command
 * is logged to stderr or --log. */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define CTL "/.hu_ctl"
#define MAX_FH 256
#define MAX_STALE 16
#define MAX_TRIG 32

static struct { char *backing; char *log; } opt;
static FILE *logf;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct fh {
    int used, fd, stale;
    ino_t ino;
    char path[PATH_MAX];
};
static struct fh fhs[MAX_FH];

static struct {
    double down_until;
    int down_err;
    int slow_ms;
    struct { char path[PATH_MAX]; int left; } stale[MAX_STALE];
    struct { char path[PATH_MAX]; long long off; char cmd[256]; int armed; } trig[MAX_TRIG];
} st;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
    va_list ap;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    flockfile(logf);
    fprintf(logf, "%ld.%03ld ", (long)ts.tv_sec, ts.tv_nsec / 1000000);
    va_start(ap, fmt);
    vfprintf(logf, fmt, ap);
    va_end(ap);
    fputc('\n', logf);
    fflush(logf);
    funlockfile(logf);
}

static const struct { const char *name; int err; } errs[] = {
    {"EHOSTDOWN", EHOSTDOWN}, {"ETIMEDOUT", ETIMEDOUT}, {"EIO", EIO}, {"ENOTCONN", ENOTCONN},
    {"EHOSTUNREACH", EHOSTUNREACH}, {"ESTALE", ESTALE}, {"ECONNRESET", ECONNRESET}, {NULL, 0},
};
static const char *errname(int e)
{
    for (int i = 0; errs[i].name; i++)
        if (errs[i].err == e)
            return errs[i].name;
    return "E?";
}

static void bpath(const char *path, char *out)
{
    snprintf(out, PATH_MAX, "%s%s", opt.backing, path);
}

static long long parse_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    switch (*end) {
    case 'K': case 'k': v <<= 10; break;
    case 'M': case 'm': v <<= 20; break;
    case 'G': case 'g': v <<= 30; break;
    }
    return v;
}

/* One command; called with the lock held.  0 or -EINVAL. */
static int command(char *line)
{
    char *save = NULL, *w = strtok_r(line, " \t\n", &save);
    if (!w)
        return 0;
    if (!strcmp(w, "down")) {
        char *secs = strtok_r(NULL, " \t\n", &save), *e = strtok_r(NULL, " \t\n", &save);
        int err = 0;
        for (int i = 0; e && errs[i].name; i++)
            if (!strcmp(e, errs[i].name))
                err = errs[i].err;
        if (!secs || !err)
            return -EINVAL;
        st.down_until = now_s() + atof(secs);
        st.down_err = err;
    } else if (!strcmp(w, "up")) {
        st.down_until = 0;
    } else if (!strcmp(w, "slow")) {
        char *ms = strtok_r(NULL, " \t\n", &save);
        if (!ms)
            return -EINVAL;
        st.slow_ms = atoi(ms);
    } else if (!strcmp(w, "stale")) {
        char *p = strtok_r(NULL, " \t\n", &save), *n = strtok_r(NULL, " \t\n", &save);
        if (!p)
            return -EINVAL;
        for (int i = 0; i < MAX_FH; i++)
            if (fhs[i].used && !strcmp(fhs[i].path, p))
                fhs[i].stale = 1;
        int k = 0;
        while (k < MAX_STALE && st.stale[k].path[0] && strcmp(st.stale[k].path, p))
            k++;
        if (k == MAX_STALE)
            return -EINVAL;
        snprintf(st.stale[k].path, PATH_MAX, "%s", p);
        st.stale[k].left = n ? atoi(n) : 0;
    } else if (!strcmp(w, "at")) {
        char *p = strtok_r(NULL, " \t\n", &save), *o = strtok_r(NULL, " \t\n", &save);
        char *rest = save;
        while (rest && (*rest == ' ' || *rest == '\t'))
            rest++;
        if (!p || !o || !rest || !*rest)
            return -EINVAL;
        int k = 0;
        while (k < MAX_TRIG && st.trig[k].armed)
            k++;
        if (k == MAX_TRIG)
            return -EINVAL;
        snprintf(st.trig[k].path, PATH_MAX, "%s", p);
        st.trig[k].off = parse_size(o);
        snprintf(st.trig[k].cmd, sizeof st.trig[k].cmd, "%s", rest);
        st.trig[k].cmd[strcspn(st.trig[k].cmd, "\n")] = '\0';
        st.trig[k].armed = 1;
    } else if (!strcmp(w, "clear")) {
        memset(&st, 0, sizeof st);
        for (int i = 0; i < MAX_FH; i++)
            fhs[i].stale = 0;
    } else
        return -EINVAL;
    return 0;
}

/* Is this operation failing?  0, or -errno.  path_op: a lookup or open,
 * which consumes one of a path's pending ESTALEs. */
static int gate(const char *op, const char *path, struct fh *fh, int path_op, long long off)
{
    int slow, err = 0;
    pthread_mutex_lock(&lock);
    slow = st.slow_ms;
    pthread_mutex_unlock(&lock);
    if (slow)
        usleep((useconds_t)slow * 1000);
    pthread_mutex_lock(&lock);
    if (now_s() < st.down_until)
        err = st.down_err;
    else if (fh && fh->stale)
        err = ESTALE;
    else if (path_op)
        for (int k = 0; k < MAX_STALE; k++)
            if (st.stale[k].path[0] && !strcmp(st.stale[k].path, path) && st.stale[k].left > 0) {
                st.stale[k].left--;
                err = ESTALE;
            }
    pthread_mutex_unlock(&lock);
    if (!err && fh) {
        /* replaced on the server: the old handle is stale */
        char b[PATH_MAX];
        struct stat s;
        bpath(fh->path, b);
        if (lstat(b, &s) < 0 || s.st_ino != fh->ino) {
            pthread_mutex_lock(&lock);
            fh->stale = 1;
            pthread_mutex_unlock(&lock);
            err = ESTALE;
        }
    }
    if (err)
        logmsg("fail %s %s off=%lld %s", op, path, off, errname(err));
    return -err;
}

static struct fh *fh_of(struct fuse_file_info *fi)
{
    return fi && fi->fh > 0 && fi->fh <= MAX_FH ? &fhs[fi->fh - 1] : NULL;
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    cfg->use_ino = 1;           /* st_ino is the backing file's */
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->direct_io = 1;
    cfg->hard_remove = 1;
    return NULL;
}

static int fs_getattr(const char *path, struct stat *s, struct fuse_file_info *fi)
{
    if (!strcmp(path, CTL)) {
        memset(s, 0, sizeof *s);
        s->st_mode = S_IFREG | 0666;
        s->st_nlink = 1;
        s->st_ino = 1000000007;
        return 0;
    }
    int rc = gate("getattr", path, fh_of(fi), !fi && strcmp(path, "/") != 0, -1);
    if (rc)
        return rc;
    char b[PATH_MAX];
    bpath(path, b);
    if (fh_of(fi) ? fstat(fh_of(fi)->fd, s) : lstat(b, s))
        return -errno;
    return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)off; (void)fi; (void)flags;
    int rc = gate("readdir", path, NULL, 0, -1);
    if (rc)
        return rc;
    char b[PATH_MAX];
    bpath(path, b);
    DIR *d = opendir(b);
    if (!d)
        return -errno;
    for (struct dirent *e; (e = readdir(d));)
        fill(buf, e->d_name, NULL, 0, 0);
    closedir(d);
    return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
    fi->direct_io = 1;
    if (!strcmp(path, CTL)) {
        fi->fh = 0;
        return 0;
    }
    int rc = gate("open", path, NULL, 1, -1);
    if (rc)
        return rc;
    char b[PATH_MAX];
    bpath(path, b);
    int fd = open(b, fi->flags & ~(O_CREAT | O_EXCL));
    if (fd < 0)
        return -errno;
    struct stat s;
    fstat(fd, &s);
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < MAX_FH && fhs[i].used)
        i++;
    if (i == MAX_FH) {
        pthread_mutex_unlock(&lock);
        close(fd);
        return -EMFILE;
    }
    fhs[i].used = 1;
    fhs[i].fd = fd;
    fhs[i].stale = 0;
    fhs[i].ino = s.st_ino;
    snprintf(fhs[i].path, PATH_MAX, "%s", path);
    pthread_mutex_unlock(&lock);
    fi->fh = (uint64_t)i + 1;
    return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    struct fh *h = fh_of(fi);
    if (!h)
        return 0;
    char cmds[MAX_TRIG][256];
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int k = 0; k < MAX_TRIG; k++)
        if (st.trig[k].armed && !strcmp(st.trig[k].path, path) &&
            off + (long long)size > st.trig[k].off) {
            st.trig[k].armed = 0;
            snprintf(cmds[n++], sizeof cmds[0], "%s", st.trig[k].cmd);
        }
    for (int k = 0; k < n; k++) {
        char c[256];
        snprintf(c, sizeof c, "%.255s", cmds[k]);
        command(c);
    }
    pthread_mutex_unlock(&lock);
    for (int k = 0; k < n; k++)
        logmsg("trigger at %s off=%lld: %s", path, (long long)off, cmds[k]);
    int rc = gate("read", path, h, 0, off);
    if (rc)
        return rc;
    ssize_t r = pread(h->fd, buf, size, off);
    return r < 0 ? -errno : (int)r;
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    struct fh *h = fh_of(fi);
    if (!h) {                           /* the control file */
        char line[1024];
        size_t n = size < sizeof line - 1 ? size : sizeof line - 1;
        memcpy(line, buf, n);
        line[n] = '\0';
        int rc = 0;
        pthread_mutex_lock(&lock);
        char *save = NULL;
        for (char *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char copy[1024];
            snprintf(copy, sizeof copy, "%s", l);
            if (command(l) < 0)
                rc = -EINVAL;
            logmsg("command: %s%s", copy, rc ? " (invalid)" : "");
        }
        pthread_mutex_unlock(&lock);
        return rc ? rc : (int)size;
    }
    int rc = gate("write", path, h, 0, off);
    if (rc)
        return rc;
    ssize_t r = pwrite(h->fd, buf, size, off);
    return r < 0 ? -errno : (int)r;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (!strcmp(path, CTL))
        return 0;
    int rc = gate("truncate", path, fh_of(fi), 0, -1);
    if (rc)
        return rc;
    char b[PATH_MAX];
    bpath(path, b);
    return (fh_of(fi) ? ftruncate(fh_of(fi)->fd, size) : truncate(b, size)) ? -errno : 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    struct fh *h = fh_of(fi);
    if (h) {
        pthread_mutex_lock(&lock);
        close(h->fd);
        h->used = 0;
        pthread_mutex_unlock(&lock);
    }
    return 0;
}

static int fs_statfs(const char *path, struct statvfs *s)
{
    (void)path;
    return statvfs(opt.backing, s) ? -errno : 0;
}

static const struct fuse_operations ops = {
    .init = fs_init,
    .getattr = fs_getattr,
    .readdir = fs_readdir,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .truncate = fs_truncate,
    .release = fs_release,
    .statfs = fs_statfs,
};

static const struct fuse_opt optspec[] = {
    {"--backing=%s", offsetof(__typeof__(opt), backing), 0},
    {"--log=%s", offsetof(__typeof__(opt), log), 0},
    FUSE_OPT_END,
};

int main(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    if (fuse_opt_parse(&args, &opt, optspec, NULL) < 0 || !opt.backing) {
        fprintf(stderr, "usage: hu_flakyfs --backing=DIR [--log=FILE] MOUNTPOINT -f [-o ...]\n");
        return 2;
    }
    char *real = realpath(opt.backing, NULL);
    if (!real) {
        perror(opt.backing);
        return 2;
    }
    opt.backing = real;
    logf = opt.log ? fopen(opt.log, "a") : stderr;
    if (!logf)
        logf = stderr;
    return fuse_main(args.argc, args.argv, &ops, NULL);
}
