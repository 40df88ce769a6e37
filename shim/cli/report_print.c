/* SPDX-License-Identifier: MIT */
/* hostup report's output (report.h): the summary as one JSON object
 * (--json), or as a table fitted to the terminal. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common.h"
#include "report.h"

static const char *const kind_name[] = { "connect", "lookup", "file", "other" };

/* ---- --json --------------------------------------------------------------- */

static json_t *jcount(u64 v) { return json_integer((json_int_t)v); }

int rep_print_json(struct summary *S, struct target **sorted)
{
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < S->nt; i++) {
        struct target *t = sorted[i];
        json_t *o = json_object(), *ops = json_array();
        json_object_set_new(o, "target", json_string(t->name));
        json_object_set_new(o, "kind", json_string(kind_name[t->kind]));
        for (size_t k = t->op_head; k != NONE; k = S->o[k].next)
            json_array_append_new(ops, json_string(S->o[k].name));
        json_object_set_new(o, "ops", ops);
        if (t->host)
            json_object_set_new(o, "host", json_string(t->host));
        if (t->addr)
            json_object_set_new(o, "addr", json_string(t->addr));
        if (t->port >= 0)
            json_object_set_new(o, "port", json_integer(t->port));
        if (t->path)
            json_object_set_new(o, "path", json_string(t->path));
        json_object_set_new(o, "records", jcount(t->records));
        json_object_set_new(o, "failures", jcount(rep_failures(t)));
        json_object_set_new(o, "retries", jcount(t->retries));
        json_object_set_new(o, "recovered", jcount(t->recovered));
        json_object_set_new(o, "gave_up", jcount(t->gave_up));
        json_object_set_new(o, "suppressed", jcount(t->suppressed));
        json_object_set_new(o, "probe_waits", jcount(t->probe_waits));
        json_object_set_new(o, "p50_ms", t->n_ms ? json_integer(rep_percentile(t->ms, t->n_ms, 50)) : json_null());
        json_object_set_new(o, "p99_ms", t->n_ms ? json_integer(rep_percentile(t->ms, t->n_ms, 99)) : json_null());
        struct cause *c = t->cause == NONE ? NULL : &S->c[t->cause];
        json_object_set_new(o, "layer", c && *c->layer ? json_string(c->layer) : json_null());
        json_object_set_new(o, "cause", c ? json_string(c->text) : json_null());
        json_object_set_new(o, "cause_count", jcount(c ? c->weight : 0));
        json_object_set_new(o, "first", *t->first ? json_string(t->first) : json_null());
        json_object_set_new(o, "last", *t->last ? json_string(t->last) : json_null());
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "targets", arr);
    json_object_set_new(root, "records", jcount(S->records));
    json_object_set_new(root, "skipped_lines", jcount(S->skipped));
    json_object_set_new(root, "config_errors", jcount(S->config_errors));
    json_object_set_new(root, "other_records", jcount(S->other));
    int rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(root);
    putchar('\n');
    return rc;
}

/* ---- the table ------------------------------------------------------------ */

enum { C_TARGET, C_FAIL, C_RETRY, C_RECOV, C_GAVEUP, C_P50, C_P99, C_LAYER, C_CAUSE,
       C_FIRST, C_LAST, NCOL };
static const char *const head[NCOL] = { "TARGET", "FAIL", "RETRY", "RECOV", "GAVEUP",
                                        "P50_MS", "P99_MS", "LAYER", "CAUSE", "FIRST", "LAST" };
#define GAP 2
#define TARGET_MAX 40   /* when the width is limited */
#define CAUSE_MIN 12

/* Display columns of UTF-8 text (code points; our text has no wide glyphs). */
static size_t cols(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A copy safe for a terminal: control characters become '?'. */
static char *clean(const char *s)
{
    char *d = xstrdup(s ? s : "");
    for (char *p = d; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return d;
}

/* Byte offset of the code point that starts at column `c` (or the end). */
static size_t at_col(const char *s, size_t c)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && c-- == 0)
            break;
    return i;
}

/* s cut to `w` columns, marking the cut with "...": at the end, or for
 * TARGET at the start (the port or file name is the telling part). */
static char *fit(char *s, size_t w, int keep_end)
{
    size_t n = cols(s);
    if (n <= w)
        return s;
    char *d;
    if (w <= 3) {
        d = xstrndup(s, at_col(s, w));
    } else if (keep_end) {
        const char *tail = s + at_col(s, n - (w - 3));
        d = xrealloc(NULL, strlen(tail) + 4);
        strcpy(d, "...");
        strcat(d, tail);
    } else {
        size_t b = at_col(s, w - 3);
        d = xrealloc(NULL, b + 4);
        memcpy(d, s, b);
        strcpy(d + b, "...");
    }
    free(s);
    return d;
}

/* The table's width limit: the terminal's, else COLUMNS, else none (as ps). */
static size_t width_limit(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    char *end;
    long v = c ? strtol(c, &end, 10) : 0;
    if (c && *c && !*end && v > 0 && v < 100000)
        return (size_t)v;
    return isatty(STDOUT_FILENO) ? 80 : 0;
}

static char *num(u64 v)
{
    char b[32];
    snprintf(b, sizeof b, "%llu", v);
    return xstrdup(b);
}

/* Times shown as HH:MM:SS.mmm when all share one date (named in the
 * footer), else as "YYYY-MM-DD HH:MM:SS". */
static char *show_time(const char *t, int same_day)
{
    if (!*t)
        return xstrdup("-");
    if (same_day)
        return xstrndup(t + 11, strlen(t) - 12);
    char *d = xstrndup(t, 19);
    d[10] = ' ';
    return d;
}

/* The date all first/last times share (*same_day), else the first date. */
static const char *common_day(const struct summary *S, struct target **sorted, int *same_day)
{
    const char *day = NULL;
    *same_day = 1;
    for (size_t i = 0; i < S->nt && *same_day; i++) {
        const char *ts[2] = { sorted[i]->first, sorted[i]->last };
        for (int k = 0; k < 2; k++) {
            if (!*ts[k])
                continue;
            if (!day)
                day = ts[k];
            else if (strncmp(day, ts[k], 10) != 0)
                *same_day = 0;
        }
    }
    return day;
}

/* The cells of the table's rows, NCOL per target, each its own string. */
static char **make_cells(const struct summary *S, struct target **sorted, int same_day)
{
    size_t n = S->nt;
    char **cell = xrealloc(NULL, (n ? n : 1) * NCOL * sizeof *cell);
    for (size_t i = 0; i < n; i++) {
        struct target *t = sorted[i];
        char **r = cell + i * NCOL;
        struct cause *cs = t->cause == NONE ? NULL : &S->c[t->cause];
        r[C_TARGET] = clean(t->name);
        r[C_FAIL] = num(rep_failures(t));
        r[C_RETRY] = num(t->retries);
        r[C_RECOV] = num(t->recovered);
        r[C_GAVEUP] = num(t->gave_up);
        r[C_P50] = t->n_ms ? num((u64)rep_percentile(t->ms, t->n_ms, 50)) : xstrdup("-");
        r[C_P99] = t->n_ms ? num((u64)rep_percentile(t->ms, t->n_ms, 99)) : xstrdup("-");
        r[C_LAYER] = clean(cs && *cs->layer ? cs->layer : "-");
        r[C_CAUSE] = clean(cs ? cs->text : "-");
        r[C_FIRST] = show_time(t->first, same_day);
        r[C_LAST] = show_time(t->last, same_day);
    }
    return cell;
}

/* Column widths into w; with a width limit, TARGET is cut to TARGET_MAX and
 * CAUSE to what room is left (at least CAUSE_MIN). */
static void fit_columns(char **cell, size_t n, size_t w[NCOL])
{
    for (int c = 0; c < NCOL; c++)
        w[c] = strlen(head[c]);
    size_t limit = width_limit();
    if (limit) {
        for (size_t i = 0; i < n; i++)
            cell[i * NCOL + C_TARGET] = fit(cell[i * NCOL + C_TARGET], TARGET_MAX, 1);
    }
    for (size_t i = 0; i < n * NCOL; i++)
        if (w[i % NCOL] < cols(cell[i]))
            w[i % NCOL] = cols(cell[i]);
    if (limit) {
        size_t other = 0;
        for (int c = 0; c < NCOL; c++)
            other += c == C_CAUSE ? 0 : w[c] + GAP;
        size_t room = limit > other ? limit - other : 0;
        if (room < CAUSE_MIN)
            room = CAUSE_MIN;
        if (w[C_CAUSE] > room) {
            w[C_CAUSE] = room;
            for (size_t i = 0; i < n; i++)
                cell[i * NCOL + C_CAUSE] = fit(cell[i * NCOL + C_CAUSE], room, 0);
        }
    }
}

/* The header and one row per target: numbers right-aligned, gave-up red,
 * recovered green (on a terminal). */
static void print_rows(FILE *o, char **cell, size_t n, const size_t w[NCOL])
{
    const char *bold = hu_cli_paint(o, "\033[1m"), *red = hu_cli_paint(o, "\033[31m"),
               *green = hu_cli_paint(o, "\033[32m"), *reset = hu_cli_paint(o, "\033[0m");
    for (size_t i = n ? 0 : 1; i <= n; i++) {   /* no rows: no header */
        const char *const *r = i == 0 ? head : (const char *const *)cell + (i - 1) * NCOL;
        for (int c = 0; c < NCOL; c++) {
            const char *s = r[c], *paint = "";
            int right = c >= C_FAIL && c <= C_P99;
            if (i == 0)
                paint = bold;
            else if (c == C_GAVEUP && strcmp(s, "0") != 0)
                paint = red;
            else if (c == C_RECOV && strcmp(s, "0") != 0)
                paint = green;
            size_t pad = w[c] - cols(s);
            if (right)
                fprintf(o, "%*s", (int)pad, "");
            fprintf(o, "%s%s%s", paint, s, *paint ? reset : "");
            if (c == NCOL - 1)
                break;
            fprintf(o, "%*s", (int)(right ? GAP : pad + GAP), "");
        }
        fputc('\n', o);
    }
}

static void print_footer(FILE *o, const struct summary *S, const char *day, int same_day)
{
    size_t n = S->nt;
    fprintf(o, "%llu record%s, %zu target%s, %llu config error%s, %llu other line%s skipped",
            S->records, S->records == 1 ? "" : "s", n, n == 1 ? "" : "s", S->config_errors,
            S->config_errors == 1 ? "" : "s", S->skipped, S->skipped == 1 ? "" : "s");
    if (S->other)
        fprintf(o, ", %llu other record%s", S->other, S->other == 1 ? "" : "s");
    if (day && same_day)
        fprintf(o, "; times UTC on %.10s", day);
    else if (day)
        fputs("; times UTC", o);
    fputc('\n', o);
}

void rep_print_table(struct summary *S, struct target **sorted)
{
    FILE *o = stdout;
    if (S->records == 0) {
        fputs("no hostup records\n", o);
        if (S->skipped)
            fprintf(o, "%llu other line%s skipped\n", S->skipped, S->skipped == 1 ? "" : "s");
        /* what a person wonders next */
        fputs("hostup writes records only about failures its policy retries. None means that\n"
              "nothing failed, or that what failed was not retryable by the policy: a refused\n"
              "connection (ECONNREFUSED), for one, is retried only with retry_on=+ECONNREFUSED\n"
              "(hostup policy TARGET shows what applies). Or the records went elsewhere:\n"
              "HOSTUP_LOG (stderr by default, or off).\n", o);
        return;
    }
    int same_day;
    const char *day = common_day(S, sorted, &same_day);
    size_t n = S->nt, w[NCOL];
    char **cell = make_cells(S, sorted, same_day);
    fit_columns(cell, n, w);
    print_rows(o, cell, n, w);
    print_footer(o, S, day, same_day);
    for (size_t i = 0; i < n * NCOL; i++)
        free(cell[i]);
    free(cell);
}
