/* Helpers every subcommand may use (common.h): the command's usage, the
 * options run/policy/check-config share, colour, JSON on stdout. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostup/hostup.h"
#include "cli.h"
#include "common.h"

void hu_cli_usage(FILE *out)
{
    fputs("usage: hostup COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  run [--policy P] [--config FILE] [--log DEST] -- CMD [ARGS]\n"
          "                      run CMD with libhostup.so preloaded\n"
          "  policy [--json] [--policy P] [--config FILE] TARGET\n"
          "                      show the rule that matches TARGET (host[:port],\n"
          "                      address[:port] or /path) and its effective values\n"
          "  check-config [--json] [--policy P] [--config FILE]\n"
          "                      validate HOSTUP_POLICY and HOSTUP_CONFIG; exit 1 on errors\n"
          "  doctor [--json] TARGET\n"
          "                      run the troubleshooting checklist against host[:port],\n"
          "                      a URL or a path, from here\n"
          "  report [--json] [FILE|-]\n"
          "                      summarise hostup records per target\n"
          "  status [--json] [--watch [SECONDS]] [--file PATH]\n"
          "                      targets in the shared state: ok, failing or probing,\n"
          "                      the prober, waiting processes, tries, budget left\n"
          "  metrics [--listen ADDR:PORT] [--textfile PATH] [--file PATH]\n"
          "                      the same counters in the Prometheus text format\n"
          "  version             print the version\n"
          "\n"
          "Without --policy/--config the environment's HOSTUP_POLICY and HOSTUP_CONFIG\n"
          "are used, as the library would.\n", out);
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
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            hu_cli_usage(stdout);
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "hostup: unknown option '%s'\n", a);
            return -1;
        } else
            return i;
        if (++i >= argc) {
            fprintf(stderr, "hostup: %s needs a value\n", a);
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
