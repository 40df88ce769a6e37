/* SPDX-License-Identifier: MIT */
/* hostup policy TARGET and hostup check-config: explain and validate
 * policies with the very parser and matcher the library uses. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hostup/hostup.h"
#include "hostup/policy.h"
#include "cli.h"
#include "common.h"
#include "sys/readfile_bounded.h"

/* The config file check-config was given (or the environment names) when
 * it cannot be opened for reading, is no regular file, or its file system
 * does not answer in time: sysexits' missing input, not "has errors".
 * Looked at as the library reads it (O_NONBLOCK, bounded in time); a
 * two-byte buffer: a larger file is refused after the fstat, unread. */
static int config_unreadable(const struct hu_cli_opts *o)
{
    const char *cfg = o->config_set ? o->config : getenv(HOSTUP_ENV_CONFIG);
    if (!cfg || !*cfg)
        return 0;
    char two[2];
    ssize_t n = hu_read_file_within(cfg, HU_RF_REGULAR, two, sizeof two, NULL, HU_CONFIG_READ_MS);
    return n == HU_RF_OPEN || n == HU_RF_STAT || n == HU_RF_NOTREG || n == HU_RF_TIME;
}

/* "ok", and with no rule at all what applies then: the defaults. */
static void print_ok(const hu_policy *p)
{
    printf("ok: %zu rule%s", p->nrules, p->nrules == 1 ? "" : "s");
    if (p->nrules) {
        putchar('\n');
        return;
    }
    char desc[1024];
    hu_rule_describe(&p->defaults, desc, sizeof desc);
    printf("; no HOSTUP_POLICY or HOSTUP_CONFIG rules, so the defaults apply to every target:\n  %s\n", desc);
}

int cmd_check_config(int argc, char **argv)
{
    struct hu_cli_opts o = {.cmd = argv[1]};
    int i = hu_cli_parse_opts(argc, argv, 2, &o);
    if (i < 0)
        return EX_USAGE;
    if (i < argc) {
        fprintf(stderr, "hostup: check-config takes no arguments\n");
        return EX_USAGE;
    }
    hu_policy *p = hu_cli_load_policy(&o);
    int bad = p->nerrors != 0;     /* nerrors_more is never set without it */
    char desc[1024];
    hu_rule_describe(&p->defaults, desc, sizeof desc);
    if (o.json) {
        json_t *errs = json_array();
        for (size_t k = 0; k < p->nerrors; k++) {
            const hu_policy_error *e = &p->errors[k];
            json_array_append_new(errs, json_pack("{s:s, s:i, s:i, s:i, s:s, s:s}", "source", e->source,
                                                  "rule", e->rule, "line", e->line, "column", e->column,
                                                  "text", e->text ? e->text : "", "reason", e->reason));
        }
        hu_cli_put_json(json_pack("{s:b, s:i, s:o, s:i, s:s}", "ok", !bad, "rules", (int)p->nrules,
                                  "errors", errs, "more_errors", (int)p->nerrors_more, "defaults", desc));
    } else {
        hu_cli_print_policy_errors(p);
        if (!bad)
            print_ok(p);
    }
    hu_policy_free(p);
    return !bad ? 0 : config_unreadable(&o) ? EX_NOINPUT : 1;
}

/* The rule for a host[:port] or address[:port] TARGET; NULL after printing
 * why it is no such target. */
static const hu_rule *rule_for_host(const hu_policy *p, const char *target)
{
    hu_selector sel;
    const char *why;
    if (hu_parse_selector(target, &sel, &why) < 0 || sel.kind == HU_SEL_CIDR ||
        sel.port_lo != sel.port_hi) {
        fputs("hostup: ", stderr);
        hu_cli_put_safe(stderr, target);
        fprintf(stderr, ": %s\n", sel.kind == HU_SEL_CIDR ? "give one address, not a CIDR" : why);
        return NULL;
    }
    struct sockaddr_storage ss = {0};
    const struct sockaddr *sa = NULL;
    if (sel.kind == HU_SEL_ADDR) {
        ss.ss_family = (sa_family_t)sel.family;
        if (sel.family == AF_INET)
            memcpy(&((struct sockaddr_in *)&ss)->sin_addr, sel.addr, 4);
        else
            memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, sel.addr, 16);
        sa = (struct sockaddr *)&ss;
    }
    const hu_rule *r = hu_policy_match(p, sel.kind == HU_SEL_HOST ? sel.pattern : NULL, sa, sel.port_lo);
    free(sel.pattern);
    return r;
}

/* --json: the rule and its values, read back from its description (it is
 * key=value pairs: reuse it rather than restate it). */
static void put_rule_json(const char *target, const hu_rule *r, const char *desc)
{
    json_t *vals = json_object();
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", desc);
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(t, '=');
        if (eq) {
            *eq = '\0';
            json_object_set_new(vals, t, json_string(eq + 1));
        } else
            json_object_set_new(vals, t, json_true());
    }
    hu_cli_put_json(json_pack("{s:s, s:s?, s:i, s:s, s:o}", "target", target,
                              "source", r->number ? (r->from_config ? HOSTUP_ENV_CONFIG : HOSTUP_ENV_POLICY) : NULL,
                              "rule_number", r->number, "rule", r->text, "values", vals));
}

int cmd_policy(int argc, char **argv)
{
    struct hu_cli_opts o = {.cmd = argv[1]};
    int i = hu_cli_parse_opts(argc, argv, 2, &o);
    if (i < 0)
        return EX_USAGE;
    if (i + 1 != argc) {
        fprintf(stderr, "hostup: policy needs one TARGET: host[:port], address[:port] or /path\n");
        return EX_USAGE;
    }
    const char *target = argv[i];
    hu_policy *p = hu_cli_load_policy(&o);
    hu_cli_print_policy_errors(p);
    const hu_rule *r;
    if (target[0] == '/') {
        r = hu_policy_match_path(p, target);
        if (!r)
            r = &p->defaults;
    } else if (!(r = rule_for_host(p, target))) {
        hu_policy_free(p);
        return EX_USAGE;
    }
    char desc[1024];
    hu_rule_describe(r, desc, sizeof desc);
    if (o.json)
        put_rule_json(target, r, desc);
    else {
        hu_cli_put_safe(stdout, target);
        if (r->number) {
            printf(": %s rule %d: ", r->from_config ? HOSTUP_ENV_CONFIG : HOSTUP_ENV_POLICY, r->number);
            hu_cli_put_safe(stdout, r->text);
            putchar('\n');
        } else
            printf(": no rule matches; the defaults apply\n");
        printf("  %s\n", desc);
    }
    hu_policy_free(p);
    return 0;
}
