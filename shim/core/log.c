/* SPDX-License-Identifier: MIT */
/* Record building and writing.  Records never go through the program's
 * stdio and never to stdout; each is one write(2) so lines from threads and
 * processes sharing the destination never interleave. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hostup/hostup.h"
#include "log.h"
#include "log_dest.h"

/* ---- log storms ---- */
#define STORM_SLOTS 64
struct storm {
    uint64_t key;           /* 0 = empty */
    int64_t since;          /* start of the current window, ms */
    long folded;            /* retries dropped in it */
    int summed;             /* a summary retry was written since the last outcome */
};
/* After the summary, retries fold for this many windows, or until an
 * outcome (gave_up, recovered): one failing connect under the defaults
 * writes its first retry, one summary and its outcome. */
#define STORM_LONG 60
static struct storm storms[STORM_SLOTS];
static unsigned storm_window_ms = 1000;
static pthread_mutex_t storm_lock = PTHREAD_MUTEX_INITIALIZER;

void hu_log_set_window(unsigned ms) { storm_window_ms = ms; }

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;  /* FNV-1a, 64 bit */
    return h;
}

static uint64_t storm_key(const hu_event *ev)
{
    uint64_t h = 0xcbf29ce484222325ull;
    h = mix(h, ev->op, strlen(ev->op));
    if (ev->host)
        h = mix(h, ev->host, strlen(ev->host));
    if (ev->addr)
        h = mix(h, ev->addr->sa_data, sizeof ev->addr->sa_data);
    if (ev->addr && ev->addr->sa_family == AF_INET6)
        h = mix(h, &((const struct sockaddr_in6 *)ev->addr)->sin6_addr, 16);
    h = mix(h, &ev->port, sizeof ev->port);
    if (ev->path)
        h = mix(h, ev->path, strlen(ev->path));
    h = mix(h, &ev->err, sizeof ev->err);
    h = mix(h, &ev->eai, sizeof ev->eai);
    if (strcmp(ev->event, HOSTUP_EV_PROBE_WAIT) == 0)     /* folded apart from retries */
        h = mix(h, ev->event, strlen(ev->event));
    return h ? h : 1;
}

long hu_log_admit(const hu_event *ev)
{
    if (!storm_window_ms)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int retry = strcmp(ev->event, "retry") == 0 || strcmp(ev->event, HOSTUP_EV_PROBE_WAIT) == 0;
    /* gave_up/recovered fold nothing themselves, but carry the count of
     * the retries folded under the same target and errno */
    hu_event probe = *ev;
    if (!retry && !probe.err && !probe.eai)
        return 0;           /* recovered has no errno: nothing to match */
    uint64_t key = storm_key(&probe);
    long out = 0;
    pthread_mutex_lock(&storm_lock);
    struct storm *s = &storms[key % STORM_SLOTS];
    int64_t window = (int64_t)storm_window_ms * (s->summed ? STORM_LONG : 1);
    if (s->key == key && now - s->since < window && retry) {
        s->folded++;
        out = -1;
    } else if (s->key == key) {
        out = s->folded;
        s->folded = 0;
        s->since = now;
        s->summed = retry;
    } else if (retry) {     /* a new target takes the slot */
        s->key = key;
        s->since = now;
        s->folded = 0;
        s->summed = 0;
    }
    pthread_mutex_unlock(&storm_lock);
    return out;
}

void hu_format_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000);
}

void hu_record_add_common(json_t *rec, const char *event)
{
    char t[40];
    hu_format_time(t, sizeof t);
    json_object_set_new(rec, "time", json_string(t));
    json_object_set_new(rec, "event", json_string(event));
    json_object_set_new(rec, "pid", json_integer(getpid()));
    /* invalid UTF-8 in a program name must not lose the record */
    json_t *prog = json_string(program_invocation_short_name);
    json_object_set_new(rec, "program", prog ? prog : json_string("?"));
}

static void set_str(json_t *rec, const char *key, const char *v)
{
    if (!v)
        return;
    json_t *s = json_string(v);
    if (!s) {   /* not UTF-8: keep the bytes visible, escaped */
        char buf[1024];
        size_t o = 0;
        for (const unsigned char *p = (const unsigned char *)v; *p && o + 5 < sizeof buf; p++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, *p < 0x80 ? "%c" : "\\x%02x", *p);
        s = json_string(buf);
    }
    json_object_set_new(rec, key, s);
}

json_t *hu_record_new(const hu_event *ev)
{
    json_t *rec = json_object();
    if (!rec)
        return NULL;
    hu_record_add_common(rec, ev->event);
    json_object_set_new(rec, "op", json_string(ev->op));
    set_str(rec, "host", ev->host);
    if (ev->addr) {
        char a[INET6_ADDRSTRLEN] = "";
        const void *p = ev->addr->sa_family == AF_INET6
                            ? (const void *)&((const struct sockaddr_in6 *)ev->addr)->sin6_addr
                            : (const void *)&((const struct sockaddr_in *)ev->addr)->sin_addr;
        if (inet_ntop(ev->addr->sa_family, p, a, sizeof a))
            json_object_set_new(rec, "addr", json_string(a));
    }
    if (ev->port)
        json_object_set_new(rec, "port", json_integer(ev->port));
    if (ev->path) {     /* file calls on network volumes */
        set_str(rec, "path", ev->path);
        if (ev->fd >= 0)
            json_object_set_new(rec, "fd", json_integer(ev->fd));
        if (ev->offset >= 0)
            json_object_set_new(rec, "offset", json_integer(ev->offset));
        if (ev->mount_point) {
            json_t *m = json_object();
            set_str(m, "point", ev->mount_point);
            set_str(m, "fstype", ev->mount_fstype);
            set_str(m, "source", ev->mount_source);
            set_str(m, "options", ev->mount_options);
            json_object_set_new(rec, "mount", m);
        }
    }
    if (ev->eai) {
        json_object_set_new(rec, "errno", json_string(hu_eai_name(ev->eai)));
        json_object_set_new(rec, "error", json_string(gai_strerror(ev->eai)));
    } else if (ev->err) {
        json_object_set_new(rec, "errno", json_string(hu_errno_name(ev->err)));
        json_object_set_new(rec, "error", json_string(hu_errno_desc(ev->err)));
    }
    json_object_set_new(rec, "attempt", json_integer(ev->attempt));
    json_object_set_new(rec, "attempts", json_integer(ev->attempts));
    if (ev->delay_ms >= 0)
        json_object_set_new(rec, "delay_ms", json_integer(ev->delay_ms));
    json_object_set_new(rec, "elapsed_ms", json_integer(ev->elapsed_ms));
    if (ev->rule)
        set_str(rec, "rule", ev->rule->text);
    if (ev->diagnosis)
        json_object_set_new(rec, "diagnosis", ev->diagnosis);
    if (ev->suppressed > 0)
        json_object_set_new(rec, "suppressed", json_integer(ev->suppressed));
    if (ev->reason)
        json_object_set_new(rec, "reason", json_string(ev->reason));
    if (ev->waited_ms > 0)
        json_object_set_new(rec, "waited_ms", json_integer(ev->waited_ms));
    return rec;
}

/* HOSTUP_LOG could not be opened or written: records go to stderr from now
 * on, and the first thing there is one record saying so, naming the
 * destination and the error.  No record is lost without a word. */
static void say_log_failed(const hu_log_failure *f)
{
    json_t *rec = json_object();
    if (!rec)
        return;
    hu_record_add_common(rec, HOSTUP_EV_LOG_ERROR);
    set_str(rec, "destination", f->dest);
    json_object_set_new(rec, "errno", json_string(hu_errno_name(f->err)));
    json_object_set_new(rec, "error", json_string(hu_errno_desc(f->err)));
    if (f->reason)
        json_object_set_new(rec, "reason", json_string(f->reason));
    json_object_set_new(rec, "action", json_string("records go to stderr from here on"));
    hu_log_emit(rec);
}

void hu_log_emit(json_t *rec)
{
    int saved = errno;
    if (rec && hu_log_enabled()) {
        /* records lost before this one (full pipe, stderr replaced) */
        unsigned long owed = hu_log_dropped();
        if (owed)
            json_object_set_new(rec, "dropped", json_integer((json_int_t)owed));
        size_t n = 0;
        char *line = hu_record_line(rec, &n);   /* log_format.c */
        hu_log_failure f;
        int r = line ? hu_log_write(line, n, &f) : HU_LOG_DROPPED;   /* log_dest.c */
        if (r == HU_LOG_FAILED) {
            if (f.dest[0])      /* empty: another thread said it */
                say_log_failed(&f);
            r = hu_log_write(line, n, &f);
        }
        if (r == 0 && owed)
            hu_log_settle(owed);
        free(line);
    }
    json_decref(rec);
    errno = saved;
}

void hu_log_event(const hu_event *ev)
{
    int saved = errno;
    if (!hu_log_enabled()) {
        json_decref(ev->diagnosis);
        return;
    }
    json_t *rec = hu_record_new(ev);
    if (rec && ev->backtrace) {
        json_t *bt = hu_backtrace_json(8);
        if (bt)
            json_object_set_new(rec, "backtrace", bt);
    }
    hu_log_emit(rec);
    errno = saved;
}

void hu_log_config_error(const hu_policy_error *e)
{
    json_t *rec = json_object();
    if (!rec)
        return;
    hu_record_add_common(rec, HOSTUP_EV_CONFIG_ERROR);
    set_str(rec, "source", e->source);
    if (e->rule)
        json_object_set_new(rec, "rule_number", json_integer(e->rule));
    if (e->line)
        json_object_set_new(rec, "line", json_integer(e->line));
    if (e->column)
        json_object_set_new(rec, "column", json_integer(e->column));
    /* a huge bad rule (HOSTUP_POLICY can be 256 KiB) is quoted in part: the
     * record stays one readable line */
    if (e->text && strlen(e->text) > 512) {
        char cut[512];
        size_t n = 508;     /* not inside a UTF-8 sequence */
        while (n > 0 && ((unsigned char)e->text[n] & 0xc0) == 0x80)
            n--;
        memcpy(cut, e->text, n);
        memcpy(cut + n, "...", 4);
        set_str(rec, "text", cut);
    } else {
        set_str(rec, "text", e->text);
    }
    set_str(rec, "reason", e->reason);
    json_object_set_new(rec, "action", json_string(e->action ? e->action
                                       : "rule ignored; the other rules and the defaults apply"));
    hu_log_emit(rec);
}

void hu_log_config_errors(const hu_policy *p)
{
    for (size_t i = 0; i < p->nerrors; i++)
        hu_log_config_error(&p->errors[i]);
    if (!p->nerrors_more)
        return;
    /* one record for the rest: garbage in HOSTUP_POLICY must not flood
     * the log, yet the count says how bad it was */
    json_t *rec = json_object();
    if (!rec)
        return;
    hu_record_add_common(rec, HOSTUP_EV_CONFIG_ERROR);
    set_str(rec, "source", p->more_source);
    char reason[160];
    snprintf(reason, sizeof reason, "%zu more errors not reported (at most %d are)",
             p->nerrors_more, HU_MAX_ERRORS);
    set_str(rec, "reason", reason);
    json_object_set_new(rec, "omitted", json_integer((json_int_t)p->nerrors_more));
    json_object_set_new(rec, "action", json_string("those rules ignored; `hostup check-config` counts them"));
    hu_log_emit(rec);
}
