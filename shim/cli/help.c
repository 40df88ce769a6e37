/* SPDX-License-Identifier: MIT */
/* What the command says about itself (help.h): each subcommand's synopsis
 * and help, kept in one table so `hostup --help`, `hostup help CMD` and
 * `hostup CMD --help` can never disagree, and the "did you mean" guess for
 * a mistyped command. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "help.h"

struct cmd_help {
    const char *name;
    const char *synopsis;   /* the arguments, after "hostup NAME"; a newline
                               goes on in the next line, indented */
    const char *summary;    /* for the global usage, indented */
    const char *details;    /* for NAME --help, after the synopsis and summary */
};

static const struct cmd_help helps[] = {
    {"run", "[--policy P] [--config FILE] [--log DEST] [--lenient]\n"
            "[--supervise|--preload-only] [--verbose] -- CMD [ARGS]",
     "run CMD with libhostup.so preloaded, or, for static and\n"
     "Go programs (all with --supervise), under the supervisor,\n"
     "which retries their connects from outside (seccomp)",
     "The policy (--policy/--config, else HOSTUP_POLICY/HOSTUP_CONFIG) is checked\n"
     "first, as check-config would: with errors, CMD is not started (exit 78)\n"
     "unless --lenient, where the library skips the bad rules as it always does.\n"
     "  --policy P       HOSTUP_POLICY for CMD\n"
     "  --config FILE    HOSTUP_CONFIG for CMD\n"
     "  --log DEST       HOSTUP_LOG for CMD: stderr (default), off, fd:N or a file;\n"
     "                   fd:1 is refused (records never go into CMD's output)\n"
     "  --lenient        start CMD even when the policy has errors\n"
     "  --supervise      the supervisor for any CMD, not only static and Go ones\n"
     "  --preload-only   never the supervisor: LD_PRELOAD alone\n"
     "  --verbose        say in one stderr line which way CMD runs\n"
     "Exit: CMD's status; 64 usage, 78 policy errors, 69 the library cannot load\n"
     "here, 126/127 CMD cannot be run or found.\n"},
    {"policy", "[--json] [--policy P] [--config FILE] TARGET",
     "show the rule that matches TARGET (host[:port],\n"
     "address[:port] or /path) and its effective values",
     "  --json         one JSON object: target, source, rule_number, rule, values\n"
     "Exit: 0, or 64 when TARGET is not a host[:port], address[:port] or /path.\n"},
    {"check-config", "[--json] [--policy P] [--config FILE]",
     "validate HOSTUP_POLICY and HOSTUP_CONFIG; exit 1 on errors",
     "Prints each error with its source, line, column and rule, as the library\n"
     "would meet it, or \"ok\" with the number of rules (and, with no rules, the\n"
     "defaults that then apply).  Control and bidi characters in what is quoted\n"
     "are shown escaped: \\xNN for bytes, \\u{NNNN} for characters, \\\\ for \\.\n"
     "  --json         {\"ok\", \"rules\", \"errors\": [...], \"more_errors\"}\n"
     "Exit: 0 valid, 1 errors, 66 the config file cannot be read, 64 usage.\n"},
    {"doctor", "[--json] [--timeout DUR] TARGET",
     "run the troubleshooting checklist against host[:port],\n"
     "a URL or a path, from here",
     "TARGET is host[:port], [ipv6]:port, a URL (scheme://host[:port]/...) or a /path.\n"
     "Runs the checklist from here: resolve, route, TCP connect, neighbour, ICMP echo,\n"
     "environment; for a path: the mount and a bounded stat.\n"
     "  --json         the steps and the verdict as one JSON object\n"
     "  --timeout DUR  bounds the TCP try and the path's stat, with its unit (500ms,\n"
     "                 5s); default 5s: longer than ARP's 3 s, so a host that does\n"
     "                 not answer ARP shows EHOSTUNREACH\n"
     "Exit: 0 when the target is reachable, 1 when it is not, 64 on usage errors.\n"},
    {"report", "[--json] [FILE|-]",
     "summarise hostup records per target",
     "Summarise hostup records (JSON lines; FILE, or stdin for - or none) per\n"
     "target: failures (retries + gave_up, counting suppressed retries), retries,\n"
     "recovered, gave_up, median and p99 time to recover (nearest rank over the\n"
     "recovered records' elapsed_ms), the commonest cause and its layer, and the\n"
     "first and last time seen.  Other lines are skipped and counted.\n"
     "Reads plain and OTel (HOSTUP_LOG_FORMAT=otel) records, docker's json-file\n"
     "log lines and `docker logs [--timestamps]` output, mixed in any way.\n"
     "  --json         one JSON object: {\"targets\": [...], \"records\": N,\n"
     "                 \"skipped_lines\": N, \"config_errors\": N, \"other_records\": N}\n"
     "Exit: 0; 66 FILE cannot be opened, 74 read or write errors, 64 usage.\n"},
    {"status", "[--json] [--watch [SECONDS]] [--file PATH] [--prune]",
     "targets in the shared state: ok, failing or probing,\n"
     "the prober, waiting processes, tries, budget left",
     "  --json         the same as one JSON object (counters as JSON integers)\n"
     "  --watch [S]    show it again every S seconds (default 1)\n"
     "  --file PATH    the shared state file (default: where the library looks)\n"
     "  --prune        remove this user's shared files that no process maps, and say which\n"
     "Exit: 0; 66 when there is no shared state file, 64 usage.\n"},
    {"metrics", "[--listen ADDR:PORT] [--textfile PATH] [--file PATH]",
     "the same counters in the Prometheus text format",
     "On stdout by default.\n"
     "  --listen A:P   serve them over HTTP at http://A:P/metrics (IPv4); a request\n"
     "                 has 2 s in all to arrive, and slow clients do not hold up others\n"
     "  --textfile F   write them to F for node_exporter: a new file renamed over F,\n"
     "                 so F must be a regular file (or absent) in a directory we may\n"
     "                 write; a symbolic link is followed and its target replaced\n"
     "  --file PATH    the shared state file (default: where the library looks)\n"
     "Exit: 0; 64 usage, 69 cannot listen, 73 cannot write the textfile.\n"},
    {"help", "[COMMAND]", "this usage, or COMMAND's own help", NULL},
    {"version", "", "print the version", NULL},
};

/* "NAME SYNOPSIS", its later lines indented by indent; the width of the
 * last line. */
static int put_synopsis(FILE *out, const struct cmd_help *h, int indent)
{
    int n = fprintf(out, "%s%s", h->name, *h->synopsis ? " " : "");
    for (const char *s = h->synopsis; *s;) {
        size_t len = strcspn(s, "\n");
        n += fprintf(out, "%.*s", (int)len, s);
        if (!s[len])
            break;
        n = fprintf(out, "\n%*s", indent, "") - 1;
        s += len + 1;
    }
    return n;
}

void hu_cli_usage(FILE *out)
{
    fputs("usage: hostup COMMAND [ARGS]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        const struct cmd_help *h = &helps[i];
        fputs("  ", out);
        int n = 2 + put_synopsis(out, h, 6);
        int col = 22;
        if (n >= col) {
            fputc('\n', out);
            n = 0;
        }
        /* the summary under the synopsis, each of its lines at col */
        for (const char *s = h->summary; *s;) {
            size_t len = strcspn(s, "\n");
            fprintf(out, "%*s%.*s\n", col - n, "", (int)len, s);
            n = 0;
            s += len + (s[len] == '\n');
        }
    }
    fputs("\n"
          "Each command has --help (or: hostup help COMMAND).  Without --policy/--config\n"
          "the environment's HOSTUP_POLICY and HOSTUP_CONFIG are used, as the library\n"
          "would.  Exit codes follow sysexits.h: 64 usage, 66 missing input, 78 config.\n",
          out);
}

static const struct cmd_help *find(const char *cmd)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        if (strcmp(helps[i].name, cmd) == 0)
            return &helps[i];
    return NULL;
}

int hu_cli_help(const char *cmd, FILE *out)
{
    const struct cmd_help *h = find(cmd);
    if (!h)
        return -1;
    if (!h->details) {
        hu_cli_usage(out);
        return 0;
    }
    fputs("usage: hostup ", out);
    put_synopsis(out, h, 15 + (int)strlen(h->name));
    fputs("\n\n", out);
    /* the summary as a sentence */
    fprintf(out, "%c%s.\n", toupper((unsigned char)h->summary[0]), h->summary + 1);
    fprintf(out, "\n%s", h->details);
    return 0;
}

void hu_cli_synopsis(const char *cmd, FILE *out)
{
    const struct cmd_help *h = find(cmd);
    if (h) {
        fputs("usage: hostup ", out);
        put_synopsis(out, h, 15 + (int)strlen(h->name));
        fputc('\n', out);
    }
}

/* Edit distance with adjacent transpositions ("rnu" is one step from
 * "run"), for short words only. */
static size_t distance(const char *a, const char *b)
{
    enum { MAXW = 32 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXW || lb >= MAXW)
        return (size_t)-1;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *hu_cli_suggest(const char *word)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        size_t d = distance(word, helps[i].name);
        if (d < best_d) {
            best_d = d;
            best = helps[i].name;
        }
    }
    /* close enough to be a slip, not another word: at most 2 edits, and
     * fewer than half the letters of a short word */
    return best && best_d <= 2 && best_d * 2 < strlen(best) ? best : NULL;
}
