/* SPDX-License-Identifier: MIT */
/* HOSTUP_CONFIG: the same rules as HOSTUP_POLICY, as a JSON file.
 *
 *   {"rules": [{"match": "db:5432", "attempts": 20, "deadline": "90s"},
 *              {"match": "*", "attempts": 4}]}
 *
 * Each key becomes the key=value option the text form would have, so both
 * forms share one validator and one set of error messages.  Keys named
 * "comment" or starting with "//" are ignored: JSON has no comments. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hostup/hostup.h"
#include "log.h"
#include "policy_internal.h"
#include "sys/readfile_bounded.h"

#define FILE_IGNORED "file ignored; HOSTUP_POLICY and the defaults apply"

static int is_comment_key(const char *k)
{
    return strcmp(k, "comment") == 0 || strncmp(k, "//", 2) == 0;
}

/* Render a JSON option value in the text syntax; 0 on success. */
static int option_token(const char *key, json_t *v, char *out, size_t len)
{
    int n;
    if (strcmp(key, "off") == 0) {
        if (!json_is_boolean(v))
            return -1;
        n = snprintf(out, len, "%s", json_is_true(v) ? "off" : "");
    } else if (json_is_string(v)) {
        n = snprintf(out, len, "%s=%s", key, json_string_value(v));
    } else if (json_is_integer(v)) {
        int dur = !strcmp(key, "timeout") || !strcmp(key, "deadline");
        n = snprintf(out, len, "%s=%lld%s", key, (long long)json_integer_value(v), dur ? "ms" : "");
    } else if (json_is_real(v)) {
        n = snprintf(out, len, "%s=%g", key, json_real_value(v));
    } else if (json_is_array(v) && strcmp(key, "retry_on") == 0) {
        size_t i;
        json_t *item;
        n = snprintf(out, len, "retry_on=");
        json_array_foreach(v, i, item) {
            if (!json_is_string(item) || n < 0 || (size_t)n >= len)
                return -1;
            n += snprintf(out + n, len - (size_t)n, "%s%s", i ? "|" : "", json_string_value(item));
        }
    } else
        return -1;
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void add_rule(hu_policy *p, json_t *obj, size_t index, const char *origin)
{
    char text[2048], tok[1100], reason[1300];
    const char *why = NULL, *key;
    json_t *v;
    hu_rule r;
    int number = (int)index + 1;     /* as the user counts rules in the file */
    hu_rule_defaults(&r);
    r.number = number;
    r.from_config = 1;

    if (!json_is_object(obj)) {
        snprintf(reason, sizeof reason, "rule %zu: a rule is an object with a \"match\" key", index + 1);
        hu_policy_add_error(p, origin, number, 0, 0, "", 0, reason);
        return;
    }
    json_t *m = json_object_get(obj, "match");
    if (!json_is_string(m)) {
        snprintf(reason, sizeof reason, "rule %zu: \"match\" must be a string (host[:port], address, CIDR, path or *)", index + 1);
        hu_policy_add_error(p, origin, number, 0, 0, "", 0, reason);
        return;
    }
    size_t tl = (size_t)snprintf(text, sizeof text, "%s", json_string_value(m));
    if (hu_parse_selector(json_string_value(m), &r.sel, &why) < 0) {
        snprintf(reason, sizeof reason, "rule %zu: \"match\": '%s': %s", index + 1, json_string_value(m), why);
        goto fail;
    }
    if (r.sel.kind == HU_SEL_PATH)
        hu_rule_volume_retry_on(&r);
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "match") == 0 || is_comment_key(key))
            continue;
        if (option_token(key, v, tok, sizeof tok) < 0) {
            snprintf(reason, sizeof reason, "rule %zu: \"%s\": unsupported value type", index + 1, key);
            goto fail;
        }
        if (!tok[0])
            continue;
        if (hu_rule_apply_option(&r, tok, &why) < 0) {
            snprintf(reason, sizeof reason, "rule %zu: \"%s\": '%s': %s", index + 1, key, tok, why);
            goto fail;
        }
        if (tl < sizeof text)
            tl += (size_t)snprintf(text + tl, sizeof text - tl, " %s", tok);
    }
    r.text = strdup(text);
    if (!r.text || hu_policy_push_rule(p, &r) < 0)
        hu_rule_release(&r);
    return;
fail:
    hu_policy_add_error(p, origin, number, 0, 0, text, strnlen(text, sizeof text), reason);
    r.text = NULL;
    hu_rule_release(&r);
}

static void add_root(hu_policy *p, json_t *root, const char *origin)
{
    json_t *rules = json_is_array(root) ? root : json_object_get(root, "rules");
    if (!json_is_array(rules)) {
        hu_policy_add_error(p, origin, 0, 0, 0, "", 0,
                            "expected {\"rules\": [ ... ]} or a JSON array of rules");
        return;
    }
    size_t i, skipped = p->nrules_skipped;
    json_t *item;
    json_array_foreach(rules, i, item) {
        if (hu_policy_rule_room(p))
            add_rule(p, item, i, origin);
    }
    hu_policy_report_rule_cap(p, origin, skipped);
}

static void syntax_error(hu_policy *p, const char *origin, const json_error_t *err)
{
    hu_policy_add_error(p, origin, 0, err->line, err->column, err->source,
                        strnlen(err->source, sizeof err->source), err->text);
}

/* The rules of a parsed document, or its syntax error (root NULL). */
static void add_parsed(hu_policy *p, json_t *root, const json_error_t *err, const char *origin)
{
    if (!root)
        syntax_error(p, origin, err);
    else
        add_root(p, root, origin);
    json_decref(root);
}

void hu_policy_add_json(hu_policy *p, const char *json, const char *origin)
{
    json_error_t err;
    add_parsed(p, json_loads(json, JSON_REJECT_DUPLICATES, &err), &err, origin);
    hu_policy_finish(p);
}

static const char *kind_of(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* The whole file, NUL-terminated, in *out; or one config_error and -1.
 * Only a regular file of at most HU_MAX_INPUT bytes is read (the reader
 * opens it O_NONBLOCK: a FIFO without a writer must not block every
 * program at start-up), so /dev/zero or a 50 MB file costs one fstat.
 * Within timeout_ms: a file on a network mount that stopped answering
 * must not stop every program from starting (readfile_bounded.h). */
static int read_config(hu_policy *p, const char *path, char **out, size_t *len, unsigned timeout_ms)
{
    char reason[300];
    hu_readfile_info info;
    char *buf = malloc(HU_MAX_INPUT + 1);
    ssize_t n = buf ? hu_read_file_within(path, HU_RF_REGULAR, buf, HU_MAX_INPUT + 1, &info, timeout_ms) : 0;
    if (n >= 0 && buf) {
        *out = buf;
        *len = (size_t)n;
        return 0;
    }
    const char *err = hu_errno_desc(errno);
    free(buf);
    if (!buf)
        snprintf(reason, sizeof reason, "out of memory");
    else if (n == HU_RF_TIME)
        snprintf(reason, sizeof reason, "not read within %u ms: its file system does not answer "
                 "(a network mount that is down?)", timeout_ms);
    else if (n == HU_RF_OPEN)
        snprintf(reason, sizeof reason, "unable to open %s: %s", path, err);
    else if (n == HU_RF_STAT)
        snprintf(reason, sizeof reason, "unable to stat: %s", err);
    else if (n == HU_RF_NOTREG)
        snprintf(reason, sizeof reason, "%s, not a regular file: not read", kind_of(info.st.st_mode));
    else if (n == HU_RF_BIG)        /* one byte past the limit when it grew after the fstat */
        snprintf(reason, sizeof reason, "larger than 256 KiB (%lld bytes): not read",
                 info.truncated ? (long long)HU_MAX_INPUT + 1 : (long long)info.st.st_size);
    else
        snprintf(reason, sizeof reason, "read error: %s", err);
    hu_policy_add_limit_error(p, path, reason, FILE_IGNORED);
    return -1;
}

void hu_policy_add_json_file(hu_policy *p, const char *path)
{
    hu_policy_add_json_file_within(p, path, HU_CONFIG_READ_MS);
}

void hu_policy_add_json_file_within(hu_policy *p, const char *path, unsigned timeout_ms)
{
    char *buf;
    size_t n;
    if (read_config(p, path, &buf, &n, timeout_ms) == 0) {
        json_error_t err;
        json_t *root = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &err);
        free(buf);
        add_parsed(p, root, &err, path);
    }
    hu_policy_finish(p);
}

hu_policy *hu_policy_from_env(hu_policy *fallback)
{
    hu_policy *p = hu_policy_parse(getenv(HOSTUP_ENV_POLICY));
    /* HOSTUP_POLICY rules come first, so they win over the file's. */
    const char *cfg = secure_getenv(HOSTUP_ENV_CONFIG);
    if (p && cfg && *cfg)
        hu_policy_add_json_file(p, cfg);
    if (p) {
        hu_log_config_errors(p);
        return p;
    }
    hu_rule_defaults(&fallback->defaults);
    hu_policy_finish(fallback);
    return fallback;
}

void hu_log_from_env(int secure)
{
    hu_log_configure(getenv(HOSTUP_ENV_LOG), secure);
    /* the format first: the other config errors come in that format */
    const char *fmt = getenv(HOSTUP_ENV_LOG_FORMAT);
    hu_otel_set_service(getenv("OTEL_SERVICE_NAME"));
    if (hu_log_set_format(fmt) < 0) {
        hu_policy_error e = {(char *)HOSTUP_ENV_LOG_FORMAT, 0, 0, 0, (char *)fmt,
                             (char *)"unknown log format: json or otel", "records are written as json"};
        hu_log_config_error(&e);
    }
    const char *win = getenv("HOSTUP_LOG_WINDOW");
    unsigned win_ms;
    const char *why;
    if (!win || !*win)
        return;
    if (strcmp(win, "0") == 0)     /* README: 0 turns folding off */
        hu_log_set_window(0);
    else if (hu_parse_duration(win, &win_ms, &why) == 0)
        hu_log_set_window(win_ms);
    else {
        hu_policy_error e = {(char *)"HOSTUP_LOG_WINDOW", 0, 0, 0, (char *)win, (char *)why,
                             "the default window (1s) applies"};
        hu_log_config_error(&e);
    }
}
