/* SPDX-License-Identifier: MIT */
/* hostup report's pieces: the summary a stream of records adds up to
 * (report_stats.c), read from any of the forms records come in
 * (report_read.c), printed as a table or JSON (report_print.c); memory that
 * never fails (report_alloc.c); the command itself (report.c). */
#ifndef HOSTUP_CLI_REPORT_H
#define HOSTUP_CLI_REPORT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

typedef unsigned long long u64;
#define COUNT_MAX ((u64)LLONG_MAX)    /* what json_integer can hold */

static inline u64 add_sat(u64 a, u64 b) { return b >= COUNT_MAX || a >= COUNT_MAX - b ? COUNT_MAX : a + b; }

/* ---- report_alloc.c: out of memory ends the command ----------------------- */

_Noreturn void oom(void);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
char *xstrdup(const char *s);
/* Grow an array to hold at least `need` elements of `size` bytes. */
void grow(void **arr, size_t *cap, size_t need, size_t size);

/* A growable byte buffer, NUL-terminated. */
struct buf { char *p; size_t len, cap; };
void buf_add(struct buf *b, const char *s, size_t n);
void buf_str(struct buf *b, const char *s);

/* ---- report_stats.c: the summary ----------------------------------------- */

/* byte-string key -> index */
struct slot { char *key; size_t klen; uint64_t h; size_t val; };
struct table { struct slot *s; size_t cap, n; };   /* cap: power of two */

enum kind { K_CONNECT, K_LOOKUP, K_FILE, K_OTHER };

#define NONE SIZE_MAX
#define TIME_LEN 40

struct target {
    char *name;                   /* as shown; unique */
    enum kind kind;
    char *host, *addr, *path;     /* the fields the name was made of */
    long long port;               /* -1: none */
    u64 records, retries, recovered, gave_up, suppressed;
    u64 probe_waits;              /* tries skipped for another process's probe, folded too */
    long long *ms;                /* elapsed_ms of recovered records */
    size_t n_ms, cap_ms;
    char first[TIME_LEN], last[TIME_LEN];
    size_t op_head, op_tail;      /* list through ops[].next */
    size_t cause;                 /* index into causes[], or NONE */
};

struct cause { size_t target; char *layer, *text; u64 weight; };
struct op { char *name; size_t next; };

struct summary {
    struct target *t;
    size_t nt, cap_t;
    struct cause *c;
    size_t nc, cap_c;
    struct op *o;
    size_t no, cap_o;
    struct table targets, causes, ops;
    struct buf key;
    u64 records, skipped, config_errors, other;
};

/* One plain record into the summary. */
void rep_account(struct summary *S, json_t *rec);
/* After the last record: each target's commonest cause, its times sorted,
 * and *sorted, the targets most failures first (free it). */
void rep_finish(struct summary *S, struct target ***sorted);
void rep_free_summary(struct summary *S);
/* Nearest rank; v sorted, n > 0, 0 < p <= 100. */
long long rep_percentile(const long long *v, size_t n, unsigned p);
u64 rep_failures(const struct target *t);    /* retries + gave_up */

/* ---- report_read.c ------------------------------------------------------- */

/* Every line of in, in any of the forms, into S; -1 on a read error. */
int rep_read_records(struct summary *S, FILE *in);

/* ---- report_print.c ------------------------------------------------------ */

int rep_print_json(struct summary *S, struct target **sorted);
void rep_print_table(struct summary *S, struct target **sorted);

#endif
