/* SPDX-License-Identifier: MIT */
/* hostup report's summary (report.h): records added up per target.
 *
 * Target of a record:
 *   "path" present (file operations)      -> the path
 *   lookups (getaddrinfo, gethostbyname*) -> "HOST (OP)"
 *   otherwise (connect)                   -> HOST:PORT when the host is known,
 *                                            else ADDR:PORT ([v6]:PORT)
 *
 * Counting: a record with "suppressed": N stands for N more identical retry
 * records folded into it by the library's log-storm control, so N is added
 * to the target's retries whatever the record's own event (see core/log.h).
 * failures = retries + gave_up.  The commonest cause is counted per
 * (layer, cause) pair of diagnosis, each record weighing suppressed + 1;
 * ties go to the pair seen first.
 *
 * Percentiles use the nearest-rank method: for N sorted values
 * v[1] <= ... <= v[N], the P-th percentile (0 < P <= 100) is v[ceil(P/100 * N)].
 * So p50 of {10, 20, 30, 40} is 20 and p99 of 100 values is the 99th.
 * They summarise elapsed_ms of the recovered records (time to recover).
 *
 * Memory is linear in the number of distinct targets, (target, cause) and
 * (target, op) pairs plus one integer per recovered record; lookups go
 * through a hash table, so a few hundred thousand lines take a second. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "hostup/hostup.h"
#include "report.h"

/* ---- hash table: byte-string key -> index --------------------------------- */

static uint64_t hash(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL;             /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static struct slot *table_find(struct table *t, const char *k, size_t n, uint64_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &t->s[i];
        if (!s->key || (s->h == h && s->klen == n && memcmp(s->key, k, n) == 0))
            return s;
    }
}

/* Index stored under key; if absent, stores `fresh` and sets *added. */
static size_t table_get(struct table *t, const char *k, size_t n, size_t fresh, int *added)
{
    if ((t->n + 1) * 4 > t->cap * 3) {                 /* keep load <= 3/4 */
        struct table nt = { NULL, t->cap ? t->cap * 2 : 64, t->n };
        nt.s = calloc(nt.cap, sizeof *nt.s);
        if (!nt.s)
            oom();
        for (size_t i = 0; i < t->cap; i++)
            if (t->s[i].key)
                *table_find(&nt, t->s[i].key, t->s[i].klen, t->s[i].h) = t->s[i];
        free(t->s);
        *t = nt;
    }
    uint64_t h = hash(k, n);
    struct slot *s = table_find(t, k, n, h);
    *added = !s->key;
    if (*added) {
        *s = (struct slot){ xstrndup(k, n), n, h, fresh };
        t->n++;
    }
    return s->val;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->s[i].key);
    free(t->s);
}

/* ---- the summary ---------------------------------------------------------- */

static const char *str(json_t *rec, const char *k)
{
    return json_string_value(json_object_get(rec, k));
}

/* A JSON string value with its length (it may hold NUL); NULL if absent. */
static const char *strn(json_t *v, size_t *n)
{
    if (!json_is_string(v))
        return NULL;
    *n = json_string_length(v);
    return json_string_value(v);
}

static int is_lookup(const char *op)
{
    return op && (strncmp(op, "getaddrinfo", 11) == 0 || strncmp(op, "gethostby", 9) == 0 ||
                  strncmp(op, "getnameinfo", 11) == 0 || strncmp(op, "res_", 4) == 0);
}

/* host:port with brackets for an IPv6 literal; no port: the host alone. */
static void host_port(struct buf *b, const char *h, long long port)
{
    int v6 = strchr(h, ':') != NULL;
    if (v6 && port >= 0)
        buf_str(b, "[");
    buf_str(b, h);
    if (port >= 0) {
        char p[32];
        snprintf(p, sizeof p, "%s:%lld", v6 ? "]" : "", port);
        buf_str(b, p);
    }
}

static size_t target_of(struct summary *S, json_t *rec)
{
    const char *op = str(rec, "op"), *host = str(rec, "host"), *addr = str(rec, "addr");
    const char *path = str(rec, "path");
    json_t *pv = json_object_get(rec, "port");
    long long port = -1;
    if (json_is_integer(pv) && json_integer_value(pv) >= 0)
        port = json_integer_value(pv);
    else if (json_is_string(pv) && *json_string_value(pv)) {
        char *end;
        long long v = strtoll(json_string_value(pv), &end, 10);
        if (!*end && v >= 0)
            port = v;
    }
    if (host && !*host)
        host = NULL;
    if (addr && !*addr)
        addr = NULL;

    enum kind k;
    struct buf name = { 0 };
    if (path) {
        k = K_FILE;
        buf_str(&name, path);
    } else if (is_lookup(op)) {
        k = K_LOOKUP;
        buf_str(&name, host ? host : "?");
        buf_str(&name, " (");
        buf_str(&name, op);
        buf_str(&name, ")");
    } else if (host || addr) {
        k = K_CONNECT;
        host_port(&name, host ? host : addr, port);
    } else {
        k = K_OTHER;
        buf_str(&name, "? (");
        buf_str(&name, op ? op : "?");
        buf_str(&name, ")");
    }

    int added;
    size_t id = table_get(&S->targets, name.p, name.len, S->nt, &added);
    if (!added) {
        free(name.p);
        return id;
    }
    grow((void **)&S->t, &S->cap_t, S->nt + 1, sizeof *S->t);
    struct target *t = &S->t[S->nt++];
    *t = (struct target){ .name = name.p, .kind = k, .port = -1,
                          .op_head = NONE, .op_tail = NONE, .cause = NONE };
    if (k == K_FILE)
        t->path = xstrdup(path);
    else if (k == K_LOOKUP)
        t->host = host ? xstrdup(host) : NULL;
    else if (k == K_CONNECT) {
        if (host)
            t->host = xstrdup(host);
        else
            t->addr = xstrdup(addr);
        t->port = port;
    }
    return id;
}

/* Key "<target id>\x1f<parts...>" for the per-target tables. */
static void key_start(struct summary *S, size_t tid)
{
    char n[32];
    S->key.len = 0;
    buf_add(&S->key, n, (size_t)snprintf(n, sizeof n, "%zu\x1f", tid));
}

static void add_op(struct summary *S, size_t tid, const char *op)
{
    int added;
    key_start(S, tid);
    buf_str(&S->key, op);
    table_get(&S->ops, S->key.p, S->key.len, S->no, &added);
    if (!added)
        return;
    grow((void **)&S->o, &S->cap_o, S->no + 1, sizeof *S->o);
    S->o[S->no] = (struct op){ xstrdup(op), NONE };
    struct target *t = &S->t[tid];
    if (t->op_tail == NONE)
        t->op_head = S->no;
    else
        S->o[t->op_tail].next = S->no;
    t->op_tail = S->no++;
}

static void add_cause(struct summary *S, size_t tid, json_t *diag, u64 weight)
{
    size_t ln = 0, cn = 0;
    const char *layer = strn(json_object_get(diag, "layer"), &ln);
    const char *text = strn(json_object_get(diag, "cause"), &cn);
    if (!text)
        return;
    if (!layer)
        layer = "", ln = 0;
    int added;
    key_start(S, tid);
    buf_add(&S->key, layer, ln);
    buf_add(&S->key, "\x1f", 1);
    buf_add(&S->key, text, cn);
    size_t id = table_get(&S->causes, S->key.p, S->key.len, S->nc, &added);
    if (added) {
        grow((void **)&S->c, &S->cap_c, S->nc + 1, sizeof *S->c);
        S->c[S->nc++] = (struct cause){ tid, xstrndup(layer, ln), xstrndup(text, cn), 0 };
    }
    S->c[id].weight = add_sat(S->c[id].weight, weight);
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z": then string order is time order. */
static int good_time(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = s ? strlen(s) : 0;
    if (n < sizeof pat || n >= TIME_LEN || s[n - 1] != 'Z')
        return 0;
    for (size_t i = 0; i < n - 1; i++) {
        char want = i < sizeof pat - 1 ? pat[i] : (i == sizeof pat - 1 ? '.' : 'd');
        if (want == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != want)
            return 0;
    }
    return 1;
}

void rep_account(struct summary *S, json_t *rec)
{
    S->records++;
    const char *ev = str(rec, "event");
    if (ev && strcmp(ev, "config_error") == 0) {
        S->config_errors++;
        return;
    }
    int retry = ev && strcmp(ev, "retry") == 0, gave_up = ev && strcmp(ev, "gave_up") == 0,
        recovered = ev && strcmp(ev, "recovered") == 0,
        probe_wait = ev && strcmp(ev, HOSTUP_EV_PROBE_WAIT) == 0;
    if (!retry && !gave_up && !recovered && !probe_wait) {
        S->other++;
        return;
    }
    size_t tid = target_of(S, rec);
    struct target *t = &S->t[tid];
    json_t *sv = json_object_get(rec, "suppressed");
    u64 sup = json_is_integer(sv) && json_integer_value(sv) > 0 ? (u64)json_integer_value(sv) : 0;

    t->records++;
    t->suppressed = add_sat(t->suppressed, sup);
    if (probe_wait)
        t->probe_waits = add_sat(t->probe_waits, sup + 1);
    else
        t->retries = add_sat(t->retries, sup + (u64)retry);    /* folded retries */
    if (gave_up)
        t->gave_up++;
    if (recovered) {
        t->recovered++;
        json_t *e = json_object_get(rec, "elapsed_ms");
        if (json_is_number(e)) {
            double d = json_number_value(e);
            grow((void **)&t->ms, &t->cap_ms, t->n_ms + 1, sizeof *t->ms);
            t->ms[t->n_ms++] = d < 0 ? 0 : d > 1e15 ? (long long)1e15 : (long long)(d + 0.5);
        }
    } else {
        json_t *diag = json_object_get(rec, "diagnosis");
        if (json_is_object(diag))
            add_cause(S, tid, diag, add_sat(sup, 1));
    }
    const char *op = str(rec, "op");
    if (op && *op)
        add_op(S, tid, op);
    const char *tm = str(rec, "time");
    if (good_time(tm)) {
        if (!*t->first || strcmp(tm, t->first) < 0)
            strcpy(t->first, tm);
        if (strcmp(tm, t->last) > 0)
            strcpy(t->last, tm);
    }
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Nearest rank (see the top of the file). */
long long rep_percentile(const long long *v, size_t n, unsigned p)
{
    /* ceil(p * n / 100) without overflow: n = 100q + r */
    size_t q = n / 100, r = n % 100;
    size_t rank = q * p + (r * p + 99) / 100;
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

u64 rep_failures(const struct target *t) { return add_sat(t->retries, t->gave_up); }

static int cmp_target(const void *a, const void *b)
{
    const struct target *x = *(const struct target *const *)a, *y = *(const struct target *const *)b;
    u64 fx = rep_failures(x), fy = rep_failures(y);
    if (fx != fy)
        return fx > fy ? -1 : 1;
    if (x->gave_up != y->gave_up)
        return x->gave_up > y->gave_up ? -1 : 1;
    return strcmp(x->name, y->name);
}

void rep_finish(struct summary *S, struct target ***sorted)
{
    for (size_t i = 0; i < S->nc; i++) {        /* insertion order: ties keep the first */
        struct target *t = &S->t[S->c[i].target];
        if (t->cause == NONE || S->c[i].weight > S->c[t->cause].weight)
            t->cause = i;
    }
    *sorted = xrealloc(NULL, S->nt * sizeof **sorted);
    for (size_t i = 0; i < S->nt; i++) {
        (*sorted)[i] = &S->t[i];
        if (S->t[i].n_ms > 1)
            qsort(S->t[i].ms, S->t[i].n_ms, sizeof *S->t[i].ms, cmp_ll);
    }
    if (S->nt > 1)
        qsort(*sorted, S->nt, sizeof **sorted, cmp_target);
}

void rep_free_summary(struct summary *S)
{
    for (size_t i = 0; i < S->nt; i++) {
        struct target *t = &S->t[i];
        free(t->name), free(t->host), free(t->addr), free(t->path), free(t->ms);
    }
    for (size_t i = 0; i < S->nc; i++)
        free(S->c[i].layer), free(S->c[i].text);
    for (size_t i = 0; i < S->no; i++)
        free(S->o[i].name);
    free(S->t), free(S->c), free(S->o), free(S->key.p);
    table_free(&S->targets), table_free(&S->causes), table_free(&S->ops);
}
