/* SPDX-License-Identifier: MIT */
/* Records: one JSON object per line, written with a single write(2). */
#ifndef HOSTUP_LOG_H
#define HOSTUP_LOG_H

#include <jansson.h>
#include <sys/socket.h>

#include "hostup/policy.h"

typedef struct hu_event {
    const char *event;              /* HOSTUP_EV_* */
    const char *op;                 /* "connect", "getaddrinfo", ... */
    const char *host;               /* name, when known */
    const struct sockaddr *addr;    /* target address, when known */
    unsigned port;                  /* 0 when unknown */
    int err;                        /* errno value (> 0), or 0 */
    int eai;                        /* EAI_* code (< 0) for lookups, or 0 */
    unsigned attempt, attempts;
    long delay_ms;                  /* wait before the next try; -1: none */
    long elapsed_ms;
    const hu_rule *rule;
    json_t *diagnosis;              /* reference stolen; may be NULL */
    int backtrace;                  /* add the program's frames */
    long suppressed;                /* identical retries folded into this one */
    const char *reason;             /* gave_up: attempts, deadline, budget, error */
    long waited_ms;                 /* recovered: time spent waiting for a prober */
    /* file calls on network volumes (path != NULL); see volume.c */
    const char *path;
    int fd;                         /* -1: none */
    long long offset;               /* -1: none */
    const char *mount_point, *mount_fstype, *mount_source, *mount_options;
} hu_event;

/* Log-storm control.  Identical retry records (same op, target and errno)
 * within HOSTUP_LOG_WINDOW (default 1s; 0 turns it off) are folded into
 * the next record for that target, which carries "suppressed": N; after
 * that summary the next ones fold for 60 windows, or until a gave_up or
 * recovered record with the same key ends the round.  probe_wait records
 * fold the same way, among themselves.  gave_up and recovered records are
 * never folded (a recovered one matches only when the caller keys it with
 * its retries' errno).  Returns -1 when the record should be dropped, else
 * the count to put in ev->suppressed.  Call it before building a
 * diagnosis, so dropped records cost no probes. */
long hu_log_admit(const hu_event *ev);
void hu_log_set_window(unsigned ms);

/* HOSTUP_LOG value: "stderr" (default), "off", "fd:N" or a file path.
 * secure: the process runs with AT_SECURE; file paths are refused. */
void hu_log_configure(const char *spec, int secure);
int hu_log_enabled(void);
/* Build a record without writing it (tests use this). */
json_t *hu_record_new(const hu_event *ev);
void hu_record_add_common(json_t *rec, const char *event);
/* Write and release a record.  errno is preserved. */
void hu_log_emit(json_t *rec);
void hu_log_event(const hu_event *ev);
void hu_log_config_error(const hu_policy_error *e);
/* Every kept error of p, then one summary record for those only counted. */
void hu_log_config_errors(const hu_policy *p);
/* RFC 3339 UTC with milliseconds into buf (>= 32 bytes). */
void hu_format_time(char *buf, size_t len);

json_t *hu_backtrace_json(int max_frames);

/* ---- record lines (log_format.c, log_otel.c) ---- */
/* Longest record line, newline included: under docker's 16 KiB split. */
#define HU_RECORD_MAX 16000
enum { HU_FORMAT_JSON, HU_FORMAT_OTEL };
/* HOSTUP_LOG_FORMAT: "json" (also unset or empty) or "otel"; -1 for
 * anything else, and the format stays json. */
int hu_log_set_format(const char *spec);
int hu_log_format(void);
/* rec as one line in the current format, '\n'-terminated, *len bytes
 * (no NUL); shrinks rec in place when the line would reach HU_RECORD_MAX.
 * Free the line. */
char *hu_record_line(json_t *rec, size_t *len);
/* OTLP/JSON LogsData holding rec as one LogRecord (new reference). */
json_t *hu_record_otel(json_t *rec);
/* service.name for OTel lines (OTEL_SERVICE_NAME); NULL or "": the default. */
void hu_otel_set_service(const char *name);
/* OTel severity number and text of an event. */
int hu_otel_severity(const char *event, const char **text);
/* A plain record from an OTLP/JSON LogRecord and its resource (may be NULL). */
json_t *hu_otel_record(json_t *log_record, json_t *resource);

#endif
