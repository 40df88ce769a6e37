/* SPDX-License-Identifier: MIT */
/* hostup metrics: the shared state's counters (status.h) in the
 * Prometheus text format, on stdout or as a node_exporter textfile
 * (--textfile, replaced whole so it is never read half-written); over HTTP
 * with --listen (metrics_http.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"
#include "metrics.h"
#include "sys/sysio.h"

static const char *kind_of(mode_t m)
{
    return S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : S_ISFIFO(m) ? "a pipe"
         : S_ISSOCK(m) ? "a socket" : S_ISDIR(m) ? "a directory" : "something not a regular file";
}

/* The file --textfile PATH replaces: PATH when it is a regular file or
 * absent; the file a symbolic link leads to when that is a regular file
 * (the link stays).  Anything else is refused, saying why, with -1: the new
 * file is renamed over the old, which would replace a device, a pipe or
 * (for /dev/stdout) the link itself with a regular file. */
static int textfile_target(const char *path, char *real, size_t len)
{
    struct stat st;
    if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) {
            fprintf(stderr, "hostup: metrics: --textfile %s: %s\n", path, strerror(errno));
            return -1;
        }
        snprintf(real, len, "%s", path);
        return 0;
    }
    char refuse[PATH_MAX + 64] = "", resolved[PATH_MAX];
    if (S_ISLNK(st.st_mode)) {
        if (hu_sys_stat(path, &st) != 0)
            snprintf(refuse, sizeof refuse, "is a symbolic link that leads nowhere");
        else if (!S_ISREG(st.st_mode))
            snprintf(refuse, sizeof refuse, "is a symbolic link to %s", kind_of(st.st_mode));
        else if (!realpath(path, resolved) || strlen(resolved) >= len)
            snprintf(refuse, sizeof refuse, "leads to a path that cannot be resolved");
        else
            path = resolved;
    } else if (!S_ISREG(st.st_mode))
        snprintf(refuse, sizeof refuse, "is %s", kind_of(st.st_mode));
    if (refuse[0]) {
        fprintf(stderr, "hostup: metrics: --textfile %s %s; not replaced: the textfile is a regular "
                        "file, written anew and renamed over the old one (for stdout, leave --textfile out)\n",
                path, refuse);
        return -1;
    }
    snprintf(real, len, "%s", path);
    return 0;
}

static int write_textfile(const char *path, const struct hu_buf *b)
{
    char real[PATH_MAX], tmp[PATH_MAX + 32];
    if (textfile_target(path, real, sizeof real) < 0)
        return EX_CANTCREAT;
    /* beside it, so the rename stays in one file system and directory */
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", real, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
        fprintf(stderr, "hostup: metrics: --textfile: %s: %s\n", tmp, strerror(errno));
        if (fd >= 0 && !f)
            close(fd);
        if (fd >= 0)
            unlink(tmp);
        return EX_CANTCREAT;
    }
    if (rename(tmp, real) != 0) {   /* node_exporter never sees half a file */
        fprintf(stderr, "hostup: metrics: --textfile %s: %s\n", real, strerror(errno));
        unlink(tmp);
        return EX_CANTCREAT;
    }
    return 0;
}

static int metrics_body(const struct sopts *o, const hu_policy *p)
{
    if (o->listen)
        return hu_metrics_serve(o->listen, o, p);
    int rc = 0;
    struct hu_buf b = {0};
    hu_metrics_render(&b, o, p);
    if (o->textfile)
        rc = write_textfile(o->textfile, &b);
    else if (b.n)
        fwrite(b.p, 1, b.n, stdout);
    free(b.p);
    return rc;
}

int cmd_metrics(int argc, char **argv)
{
    return hu_status_with_policy(argc, argv, "metrics", metrics_body);
}
