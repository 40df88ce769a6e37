/* SPDX-License-Identifier: MIT */
/* Helpers every subcommand may use (common.h): the command's usage, the
 * options run/policy/check-config share, their policy errors, text from
 * outside shown safely, colour, JSON on stdout. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostup/hostup.h"
#include "cli.h"
#include "common.h"
#include "help.h"

/* run's own switches: 1 when a is one (set in o). */
static int run_switch(const char *a, struct hu_cli_opts *o)
{
    static const char *const names[] = {"--lenient", "--supervise", "--preload-only", "--verbose"};
    int *const flags[] = {&o->lenient, &o->supervise, &o->preload_only, &o->verbose};
    if (strcmp(o->cmd, "run") != 0)
        return 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(a, names[k]) == 0) {
            *flags[k] = 1;
            return 1;
        }
    return 0;
}

int hu_cli_parse_opts(int argc, char **argv, int i, struct hu_cli_opts *o)
{
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--") == 0)
            return i + 1;
        if (strcmp(a, "--policy") == 0) {
            slot = &o->policy;
            o->policy_set = 1;
        } else if (strcmp(a, "--config") == 0) {
            slot = &o->config;
            o->config_set = 1;
        } else if (strcmp(a, "--log") == 0)
            slot = &o->log;
        else if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        } else if (run_switch(a, o)) {
            continue;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            hu_cli_help(o->cmd, stdout);
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "hostup: %s: unknown option '%s'\n", o->cmd, a);
            hu_cli_synopsis(o->cmd, stderr);
            return -1;
        } else
            return i;
        if (++i >= argc) {
            fprintf(stderr, "hostup: %s: %s needs a value\n", o->cmd, a);
            return -1;
        }
        *slot = argv[i];
    }
    return i;
}

hu_policy *hu_cli_load_policy(const struct hu_cli_opts *o)
{
    const char *text = o->policy_set ? o->policy : getenv(HOSTUP_ENV_POLICY);
    const char *cfg = o->config_set ? o->config : getenv(HOSTUP_ENV_CONFIG);
    hu_policy *p = hu_policy_parse(text);
    if (p && cfg && *cfg)
        hu_policy_add_json_file(p, cfg);
    if (!p) {
        fprintf(stderr, "hostup: out of memory\n");
        exit(EX_SOFTWARE);
    }
    return p;
}

int hu_cli_colour(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    return !(nc && *nc) && isatty(fileno(f));
}

const char *hu_cli_paint(FILE *f, const char *code)
{
    return hu_cli_colour(f) ? code : "";
}

void hu_cli_put_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(s ? s : "{}");
    free(s);
    json_decref(doc);
}

/* Bidi controls (U+061C, U+200E-U+200F, U+202A-U+202E, U+2066-U+2069),
 * which reorder what a terminal shows, and C1 controls (U+0080-U+009F). */
static int hidden_char(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The length of the well-formed UTF-8 sequence at s and its code point,
 * or 0 when s does not start one. */
static size_t utf8_char(const unsigned char *s, unsigned *cp)
{
    size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    if (!n || (n == 3 && s[0] >= 0xf0))
        return 0;
    unsigned v = s[0] & (0x7fu >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3fu);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

void hu_cli_put_safe(FILE *f, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        unsigned cp = 0;
        size_t n = *s >= 0x80 ? utf8_char(s, &cp) : 0;
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s < 0x20 || *s == 0x7f || (*s >= 0x80 && !n))
            fprintf(f, "\\x%02X", *s);
        else if (n && hidden_char(cp))
            fprintf(f, "\\u{%04X}", cp);
        else {
            fwrite(s, 1, n ? n : 1, f);
        }
        s += n ? n : 1;
    }
}

void hu_cli_print_policy_errors(const hu_policy *p)
{
    for (size_t i = 0; i < p->nerrors; i++) {
        const hu_policy_error *e = &p->errors[i];
        hu_cli_put_safe(stderr, e->source);
        if (e->line)
            fprintf(stderr, ":%d:%d", e->line, e->column);
        if (e->rule)
            fprintf(stderr, ": rule %d", e->rule);
        if (e->column && !e->line)
            fprintf(stderr, ", column %d", e->column);
        fputs(": ", stderr);
        hu_cli_put_safe(stderr, e->reason);
        if (e->text && *e->text) {
            fputs(" (in \"", stderr);
            hu_cli_put_safe(stderr, e->text);
            fputs("\")", stderr);
        }
        fputc('\n', stderr);
    }
    if (p->nerrors_more)
        fprintf(stderr, "... and %zu more errors (at most %d are shown)\n", p->nerrors_more,
                HU_MAX_ERRORS);
}
