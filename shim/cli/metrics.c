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

void hu_buf_printf(struct hu_buf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)(k > 0 ? k : 0) + 1;
        char *np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
}

static void family(struct hu_buf *b, const char *name, const char *type, const char *help)
{
    hu_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void hu_metrics_render(struct hu_buf *b, const struct sopts *o, const hu_policy *p)
{
    char path[4096];
    const char *why = NULL;
    struct hu_shm *m = hu_status_open(o, path, sizeof path, &why);
    family(b, "hostup_shared_up", "gauge", "1 when the shared state file could be read.");
    hu_buf_printf(b, "hostup_shared_up %d\n", m != NULL);
    if (!m)
        return;
    int64_t now = hu_shm_now_ms();
    struct view *vs = calloc(HU_SHM_SLOTS, sizeof *vs);
    unsigned nv = 0;
    for (unsigned i = 0; vs && i < HU_SHM_SLOTS; i++)
        if (__atomic_load_n(&m->slots[i].key, __ATOMIC_ACQUIRE))
            hu_status_view(m, i, p, now, &vs[nv++]);
    uint64_t first, retries;
    hu_shm_window(m, now / 1000, &first, &retries);
    family(b, "hostup_budget_window_first_tries", "gauge", "First tries in the budget window (10 s), all processes.");
    hu_buf_printf(b, "hostup_budget_window_first_tries %llu\n", (unsigned long long)first);
    family(b, "hostup_budget_window_retries", "gauge", "Retries charged in the budget window (10 s), all processes.");
    hu_buf_printf(b, "hostup_budget_window_retries %llu\n", (unsigned long long)retries);
    family(b, "hostup_budget_refused_total", "counter", "Retries refused because the budget was spent.");
    hu_buf_printf(b, "hostup_budget_refused_total %llu\n", (unsigned long long)m->budget_refused);
#define PER(name, type, help, expr)                                        \
    family(b, name, type, help);                                           \
    for (unsigned i = 0; i < nv; i++)                                      \
        hu_buf_printf(b, name "{target=\"%s\"} %llu\n", vs[i].target, (unsigned long long)(expr));
    PER("hostup_tries_total", "counter", "Connect tries made after the target had failed.", vs[i].s.tries)
    PER("hostup_retries_total", "counter", "Of those, retries (not first tries).", vs[i].s.retries)
    PER("hostup_probe_waits_total", "counter", "Tries skipped because another process probed the target.",
        vs[i].s.probe_waits)
    PER("hostup_recovered_total", "counter", "Connects that succeeded after a failure.", vs[i].s.recovered)
    PER("hostup_waiting", "gauge", "Connects waiting for the target's prober now.", vs[i].waiting)
    PER("hostup_waiting_processes", "gauge", "Processes among them.", vs[i].procs)
    PER("hostup_target_failing", "gauge", "1 while the target is failing.", vs[i].s.state == HU_SLOT_FAILING)
#undef PER
    family(b, "hostup_gave_up_total", "counter", "Connects that gave up, by reason (attempts, deadline, budget, error).");
    for (unsigned i = 0; i < nv; i++)
        for (int k = 0; k < HU_GU_N; k++)
            hu_buf_printf(b, "hostup_gave_up_total{target=\"%s\",reason=\"%s\"} %llu\n", vs[i].target, hu_giveup_names[k],
                (unsigned long long)vs[i].s.gave_up[k]);
    /* A target's series are born with its first failure, often already at
     * 1 by the first scrape, where increase() sees nothing; these are 0
     * from the moment the file exists, so the first give-up counts. */
    family(b, "hostup_gave_up_all_targets_total", "counter",
           "Connects that gave up, all targets together, by reason; 0 until the first.");
    for (int k = 0; k < HU_GU_N; k++) {
        unsigned long long sum = 0;
        for (unsigned i = 0; i < nv; i++)
            sum += vs[i].s.gave_up[k];
        hu_buf_printf(b, "hostup_gave_up_all_targets_total{reason=\"%s\"} %llu\n", hu_giveup_names[k], sum);
    }
    family(b, "hostup_time_to_recover_seconds", "histogram",
           "Time from a connect call to its success after a failure.");
    for (unsigned i = 0; i < nv; i++) {
        uint64_t cum = 0;
        for (int k = 0; k < HU_SHM_HIST; k++) {
            cum += vs[i].s.hist[k];
            if (k < HU_SHM_HIST - 1)
                hu_buf_printf(b, "hostup_time_to_recover_seconds_bucket{target=\"%s\",le=\"%g\"} %llu\n", vs[i].target,
                    hu_shm_hist_ms[k] / 1000.0, (unsigned long long)cum);
            else
                hu_buf_printf(b, "hostup_time_to_recover_seconds_bucket{target=\"%s\",le=\"+Inf\"} %llu\n", vs[i].target,
                    (unsigned long long)cum);
        }
        hu_buf_printf(b, "hostup_time_to_recover_seconds_sum{target=\"%s\"} %.3f\n", vs[i].target,
            (double)vs[i].s.hist_sum_ms / 1000.0);
        hu_buf_printf(b, "hostup_time_to_recover_seconds_count{target=\"%s\"} %llu\n", vs[i].target,
            (unsigned long long)cum);
    }
    free(vs);
    hu_shm_close(m);
}

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
