/* SPDX-License-Identifier: MIT */
/* hostup report's input (report.h): JSON-lines records in any mix of
 * these forms:
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
 * ignored.  The same records give the same figures in every form. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "core/log.h"
#include "report.h"

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
            rep_account(S, rec);
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
                    rep_account(S, rec);
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
    const char *st = json_string_value(json_object_get(j, "stream"));
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
        rep_account(S, j);
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

int rep_read_records(struct summary *S, FILE *in)
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
