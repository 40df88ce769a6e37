/* SPDX-License-Identifier: MIT */
/* Record lines: the format HOSTUP_LOG_FORMAT picks, and the size limit.
 *
 * Every line stays under HU_RECORD_MAX bytes, newline included: docker's
 * log drivers cut lines at 16 KiB into partial messages, and a record cut
 * in two is lost to a reader that takes one line at a time.  A record that
 * would be longer is shrunk in steps until it fits, each step marked by
 * "truncated": true: strings cut to 1 KiB, the backtrace dropped, strings
 * cut to 256 bytes, the diagnosis' evidence dropped, strings cut to 64
 * bytes, and last only the fields that say what failed kept. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int log_format = HU_FORMAT_JSON;

int hu_log_set_format(const char *spec)
{
    log_format = HU_FORMAT_JSON;
    if (!spec || !*spec || strcmp(spec, "json") == 0)
        return 0;
    if (strcmp(spec, "otel") == 0) {
        log_format = HU_FORMAT_OTEL;
        return 0;
    }
    return -1;
}

int hu_log_format(void) { return log_format; }

static char *dump(json_t *rec, size_t *n)
{
    json_t *out = log_format == HU_FORMAT_OTEL ? hu_record_otel(rec) : json_incref(rec);
    char *s = out ? json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(out);
    *n = s ? strlen(s) : 0;
    return s;
}

/* Every string in v longer than max bytes cut to max (not inside a UTF-8
 * sequence) with "..." after it. */
static void cap_strings(json_t *v, size_t max)
{
    if (json_is_string(v) && json_string_length(v) > max) {
        const char *s = json_string_value(v);
        size_t n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        char *cut = malloc(n + 4);
        if (!cut)
            return;
        memcpy(cut, s, n);
        memcpy(cut + n, "...", 4);
        json_string_set(v, cut);
        free(cut);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
            cap_strings(e, max);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            cap_strings(e, max);
    }
}

/* Last resort: what failed, and nothing else. */
static void keep_essentials(json_t *rec)
{
    static const char *const keep[] = {"time", "event", "pid", "program", "op", "errno", "attempt",
                                       "attempts", "elapsed_ms", "truncated"};
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(rec, tmp, k, v) {
        int found = 0;
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            found |= strcmp(k, keep[i]) == 0;
        if (!found)
            json_object_del(rec, k);
    }
}

char *hu_record_line(json_t *rec, size_t *len)
{
    size_t n;
    char *line = dump(rec, &n);
    for (int step = 0; line && n + 1 > HU_RECORD_MAX && step < 6; step++) {
        free(line);
        json_object_set_new(rec, "truncated", json_true());
        switch (step) {
        case 0: cap_strings(rec, 1024); break;
        case 1: json_object_del(rec, "backtrace"); break;
        case 2: cap_strings(rec, 256); break;
        case 3: json_object_del(json_object_get(rec, "diagnosis"), "evidence"); break;
        case 4: cap_strings(rec, 64); break;
        default: keep_essentials(rec); break;
        }
        line = dump(rec, &n);
    }
    if (!line)
        return NULL;
    line[n] = '\n';     /* json_dumps leaves room: the NUL becomes the newline */
    *len = n + 1;
    return line;
}
