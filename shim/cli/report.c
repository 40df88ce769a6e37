/* hostup report: summarise hostup records per target.
 *
 *   hostup report [--json] [FILE|-]
 *
 * Reads JSON-lines records (FILE, or stdin for "-" or no argument), in any
 * mix of these forms:
 *   - plain records (HOSTUP_LOG_FORMAT=json);
 *   - OTel lines (HOSTUP_LOG_FORMAT=otel: OTLP/JSON LogsData, or a bare
 *     LogRecord), turned back into plain records (log_otel.c);
 *   - docker's json-file log lines, {"log": "<line>\n", "stream": ...},
 *     whose "log" is read as a line of its own; entries without the
 *     newline are parts of a line docker cut at 16 KiB, joined per stream;
 *   - `docker logs` output, with or without --timestamps (an RFC 3339
 *     time and a space before each line, dropped).
 * Lines that are not JSON objects (the program's own output, mixed in) are
 * skipped and counted; a record that follows other text on the same line (a
 * program's unterminated output) is still found when it starts with
 * {"time": or {"resourceLogs":, as hostup's records do.  Blank lines are
 * ignored.  The same records give the same figures in every form.
 *
 * Target of a record:
 *   "path" present (file operations)      -> the path
 *   lookups (getaddrinfo, gethostbyname*) -> "HOST (OP)"
 *   otherwise (connect)                   -> HOST:PORT when the host is known,
 *                                            else ADDR:PORT ([v6]:PORT)
 *
 * Counting: a record with "suppressed": N stands for N more identical retry
 * records folded into it by the library's log-storm control, so N is added
 * to the target's retries whatever the record's own event (see shim/log.h).
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
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "hostup/hostup.h"
#include "core/log.h"
#include "sys/sysio.h"

#define EX_IOERR 74

typedef unsigned long long u64;
static const u64 COUNT_MAX = (u64)LLONG_MAX;    /* what json_integer can hold */

static u64 add_sat(u64 a, u64 b) { return b >= COUNT_MAX || a >= COUNT_MAX - b ? COUNT_MAX : a + b; }

static _Noreturn void oom(void)
{
    fputs("hostup: report: out of memory\n", stderr);
    exit(EX_SOFTWARE);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

/* Grow an array to hold at least `need` elements of `size` bytes. */
static void grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *arr = xrealloc(*arr, c * size);
    *cap = c;
}

/* ---- growable byte buffer for composing keys ------------------------------ */

struct buf { char *p; size_t len, cap; };

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (n >= SIZE_MAX - b->len)
        oom();
    grow((void **)&b->p, &b->cap, b->len + n + 1, 1);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* ---- hash table: byte-string key -> index --------------------------------- */

struct slot { char *key; size_t klen; uint64_t h; size_t val; };
struct table { struct slot *s; size_t cap, n; };   /* cap: power of two */

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

enum kind { K_CONNECT, K_LOOKUP, K_FILE, K_OTHER };
static const char *const kind_name[] = { "connect", "lookup", "file", "other" };

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

static void account(struct summary *S, json_t *rec)
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

/* ---- input: plain records, OTel lines, docker json-file, docker logs ------- */

/* An OTel LogsData line (HOSTUP_LOG_FORMAT=otel), or a bare LogRecord, holds
 * records in OTel form: each is turned back into a plain one. */
static int take_otel(struct summary *S, json_t *j)
{
    json_t *rl = json_object_get(j, "resourceLogs");
    if (!json_is_array(rl)) {
        if (!json_is_array(json_object_get(j, "attributes")) || !json_object_get(j, "timeUnixNano"))
            return 0;
        json_t *rec = hu_otel_record(j, NULL);
        if (rec)
            account(S, rec);
        json_decref(rec);
        return 1;
    }
    size_t i, k, m;
    json_t *r, *sl, *lr;
    json_array_foreach(rl, i, r) {
        json_array_foreach(json_object_get(r, "scopeLogs"), k, sl) {
            json_array_foreach(json_object_get(sl, "logRecords"), m, lr) {
                json_t *rec = hu_otel_record(lr, json_object_get(r, "resource"));
                if (rec)
                    account(S, rec);
                json_decref(rec);
            }
        }
    }
    return 1;
}

/* docker json-file: {"log": "<line>\n", "stream": "stderr", "time": "..."};
 * a line longer than 16 KiB comes as several entries, all but the last
 * without the trailing newline.  Parts are joined per stream. */
enum { ST_STDOUT, ST_STDERR, ST_OTHER, NSTREAMS };

struct input {
    struct summary *S;
    struct buf part[NSTREAMS];
};

static void take_line(struct input *in, const char *line, size_t len, int inner);

static int take_docker_entry(struct input *in, json_t *j)
{
    json_t *log = json_object_get(j, "log");
    if (!json_is_string(log) || json_object_get(j, "event") ||
        !(json_object_get(j, "stream") || json_object_get(j, "time")))
        return 0;
    const char *st = str(j, "stream");
    int s = st && strcmp(st, "stdout") == 0 ? ST_STDOUT : st && strcmp(st, "stderr") == 0 ? ST_STDERR : ST_OTHER;
    struct buf *b = &in->part[s];
    size_t n = json_string_length(log);
    buf_add(b, json_string_value(log), n);
    if (n && json_string_value(log)[n - 1] == '\n') {
        take_line(in, b->p, b->len, 1);
        b->len = 0;
    }
    return 1;
}

/* `docker logs --timestamps` puts "2026-12-02T01:02:03.456789012Z " first. */
static size_t docker_stamp(const char *s, size_t len)
{
    size_t i = 0;
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    if (len < sizeof pat)
        return 0;
    for (; i < sizeof pat - 1; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ;
    if (i < len && s[i] == 'Z')
        i++;
    else if (i + 6 <= len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':')
        i += 6;
    else
        return 0;
    return i < len && s[i] == ' ' ? i + 1 : 0;
}

static void take_json(struct summary *S, json_t *j)
{
    if (!take_otel(S, j))
        account(S, j);
}

/* One line of any of the forms; inner: it came out of a json-file entry. */
static void take_line(struct input *in, const char *line, size_t len, int inner)
{
    struct summary *S = in->S;
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    size_t ts = docker_stamp(line, len);
    line += ts, len -= ts;
    if (strspn(line, " \t") >= len)
        return;                                     /* blank */
    json_t *j = json_loadb(line, len, 0, NULL);
    if (json_is_object(j)) {
        if (inner || !take_docker_entry(in, j))
            take_json(S, j);
        json_decref(j);
        return;
    }
    json_decref(j);
    /* a record after the program's unterminated output */
    static const char *const starts[] = {"{\"time\":", "{\"resourceLogs\":"};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        const char *at = len > 1 ? memmem(line + 1, len - 1, starts[i], strlen(starts[i])) : NULL;
        j = at ? json_loadb(at, len - (size_t)(at - line), 0, NULL) : NULL;
        if (json_is_object(j)) {
            take_json(S, j);
            json_decref(j);
            return;
        }
        json_decref(j);
    }
    S->skipped++;
}

static int read_records(struct summary *S, FILE *in)
{
    struct input inp = { S, { { 0 } } };
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) >= 0)
        take_line(&inp, line, (size_t)n, 0);
    for (int s = 0; s < NSTREAMS; s++) {            /* a last line without newline */
        if (inp.part[s].len)
            take_line(&inp, inp.part[s].p, inp.part[s].len, 1);
        free(inp.part[s].p);
    }
    free(line);
    return ferror(in) ? -1 : 0;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Nearest rank (see the top of the file); v sorted, n > 0, 0 < p <= 100. */
static long long percentile(const long long *v, size_t n, unsigned p)
{
    /* ceil(p * n / 100) without overflow: n = 100q + r */
    size_t q = n / 100, r = n % 100;
    size_t rank = q * p + (r * p + 99) / 100;
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static u64 failures(const struct target *t) { return add_sat(t->retries, t->gave_up); }

static int cmp_target(const void *a, const void *b)
{
    const struct target *x = *(const struct target *const *)a, *y = *(const struct target *const *)b;
    u64 fx = failures(x), fy = failures(y);
    if (fx != fy)
        return fx > fy ? -1 : 1;
    if (x->gave_up != y->gave_up)
        return x->gave_up > y->gave_up ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void finish(struct summary *S, struct target ***sorted)
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

/* ---- --json --------------------------------------------------------------- */

static json_t *jcount(u64 v) { return json_integer((json_int_t)v); }

static int print_json(struct summary *S, struct target **sorted)
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
        json_object_set_new(o, "failures", jcount(failures(t)));
        json_object_set_new(o, "retries", jcount(t->retries));
        json_object_set_new(o, "recovered", jcount(t->recovered));
        json_object_set_new(o, "gave_up", jcount(t->gave_up));
        json_object_set_new(o, "suppressed", jcount(t->suppressed));
        json_object_set_new(o, "probe_waits", jcount(t->probe_waits));
        json_object_set_new(o, "p50_ms", t->n_ms ? json_integer(percentile(t->ms, t->n_ms, 50)) : json_null());
        json_object_set_new(o, "p99_ms", t->n_ms ? json_integer(percentile(t->ms, t->n_ms, 99)) : json_null());
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

static void print_table(struct summary *S, struct target **sorted)
{
    FILE *o = stdout;
    if (S->records == 0) {
        fputs("no hostup records\n", o);
        if (S->skipped)
            fprintf(o, "%llu other line%s skipped\n", S->skipped, S->skipped == 1 ? "" : "s");
        return;
    }
    const char *day = NULL;
    int same_day = 1;
    for (size_t i = 0; i < S->nt && same_day; i++) {
        const char *ts[2] = { sorted[i]->first, sorted[i]->last };
        for (int k = 0; k < 2; k++) {
            if (!*ts[k])
                continue;
            if (!day)
                day = ts[k];
            else if (strncmp(day, ts[k], 10) != 0)
                same_day = 0;
        }
    }

    size_t n = S->nt;
    char **cell = xrealloc(NULL, (n ? n : 1) * NCOL * sizeof *cell);
    size_t w[NCOL];
    for (int c = 0; c < NCOL; c++)
        w[c] = strlen(head[c]);
    for (size_t i = 0; i < n; i++) {
        struct target *t = sorted[i];
        char **r = cell + i * NCOL;
        struct cause *cs = t->cause == NONE ? NULL : &S->c[t->cause];
        r[C_TARGET] = clean(t->name);
        r[C_FAIL] = num(failures(t));
        r[C_RETRY] = num(t->retries);
        r[C_RECOV] = num(t->recovered);
        r[C_GAVEUP] = num(t->gave_up);
        r[C_P50] = t->n_ms ? num((u64)percentile(t->ms, t->n_ms, 50)) : xstrdup("-");
        r[C_P99] = t->n_ms ? num((u64)percentile(t->ms, t->n_ms, 99)) : xstrdup("-");
        r[C_LAYER] = clean(cs && *cs->layer ? cs->layer : "-");
        r[C_CAUSE] = clean(cs ? cs->text : "-");
        r[C_FIRST] = show_time(t->first, same_day);
        r[C_LAST] = show_time(t->last, same_day);
    }

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
    for (size_t i = 0; i < n * NCOL; i++)
        free(cell[i]);
    free(cell);
}

/* ---- command -------------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: hostup report [--json] [FILE|-]\n"
          "\n"
          "Summarise hostup records (JSON lines; FILE, or stdin for - or none) per\n"
          "target: failures (retries + gave_up, counting suppressed retries), retries,\n"
          "recovered, gave_up, median and p99 time to recover (nearest rank over the\n"
          "recovered records' elapsed_ms), the commonest cause and its layer, and the\n"
          "first and last time seen.  Other lines are skipped and counted.\n"
          "Reads plain and OTel (HOSTUP_LOG_FORMAT=otel) records, docker's json-file\n"
          "log lines and `docker logs [--timestamps]` output, mixed in any way.\n"
          "\n"
          "  --json    one JSON object: {\"targets\": [...], \"records\": N,\n"
          "            \"skipped_lines\": N, \"config_errors\": N, \"other_records\": N}\n"
          "  -h, --help\n", f);
}

static void free_summary(struct summary *S)
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

int cmd_report(int argc, char **argv)
{
    int json = 0, opts = 1;
    const char *file = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (opts && strcmp(a, "--") == 0)
            opts = 0;
        else if (opts && strcmp(a, "--json") == 0)
            json = 1;
        else if (opts && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            usage(stdout);
            return 0;
        } else if (opts && a[0] == '-' && a[1]) {
            fprintf(stderr, "hostup: report: unknown option '%s'\n", a);
            fputs("usage: hostup report [--json] [FILE|-]\n", stderr);
            return EX_USAGE;
        } else if (file) {
            fprintf(stderr, "hostup: report: one FILE only ('%s' and '%s')\n", file, a);
            fputs("usage: hostup report [--json] [FILE|-]\n", stderr);
            return EX_USAGE;
        } else
            file = a;
    }

    FILE *in = stdin;
    const char *label = "stdin";
    if (file && strcmp(file, "-") != 0) {
        struct stat st;
        label = file;
        in = fopen(file, "r");
        if (in && hu_sys_fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
            fclose(in);
            in = NULL;
            errno = EISDIR;
        }
        if (!in) {
            fprintf(stderr, "hostup: %s: %s\n", file, strerror(errno));
            return EX_NOINPUT;
        }
    } else if (isatty(STDIN_FILENO))
        fputs("hostup: report: reading records from the terminal (end with ^D)\n", stderr);

    struct summary S = { 0 };
    struct target **sorted = NULL;
    int bad = read_records(&S, in);
    int err = errno;
    if (in != stdin)
        fclose(in);
    if (bad) {
        fprintf(stderr, "hostup: %s: %s\n", label, strerror(err));
        free_summary(&S);
        return EX_IOERR;
    }
    finish(&S, &sorted);
    if (json)
        print_json(&S, sorted);
    else
        print_table(&S, sorted);
    free(sorted);
    free_summary(&S);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hostup: report: writing the output: %s\n", strerror(errno));
        return EX_IOERR;
    }
    return 0;
}
