/* SPDX-License-Identifier: MIT */
/* The Prometheus text (version 0.0.4) of the shared state's counters
 * (status.h): what `hostup metrics` prints, writes as a textfile and
 * serves over HTTP (metrics_http.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "metrics.h"

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
