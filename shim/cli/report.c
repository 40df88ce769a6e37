/* SPDX-License-Identifier: MIT */
/* hostup report: summarise hostup records per target.
 *
 *   hostup report [--json] [FILE|-]
 *
 * Reads JSON-lines records (FILE, or stdin for "-" or no argument) in any
 * mix of the forms the library and docker write (report_read.c), adds them
 * up per target (report_stats.c: how targets are named, what is counted,
 * how percentiles are taken) and prints a table or JSON (report_print.c). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "help.h"
#include "report.h"
#include "sys/sysio.h"

/* The options: -1 to go on, else the exit status (--help, usage errors). */
static int parse_args(int argc, char **argv, int *json, const char **file)
{
    int opts = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (opts && strcmp(a, "--") == 0)
            opts = 0;
        else if (opts && strcmp(a, "--json") == 0)
            *json = 1;
        else if (opts && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
            hu_cli_help("report", stdout);
            return 0;
        } else if (opts && a[0] == '-' && a[1]) {
            fprintf(stderr, "hostup: report: unknown option '%s'\n", a);
            hu_cli_synopsis("report", stderr);
            return EX_USAGE;
        } else if (*file) {
            fprintf(stderr, "hostup: report: one FILE only ('%s' and '%s')\n", *file, a);
            hu_cli_synopsis("report", stderr);
            return EX_USAGE;
        } else
            *file = a;
    }
    return -1;
}

/* FILE, or stdin for none or "-"; NULL (errno set) if it cannot be read. */
static FILE *open_input(const char *file)
{
    if (!file || strcmp(file, "-") == 0) {
        if (isatty(STDIN_FILENO))
            fputs("hostup: report: reading records from the terminal (end with ^D)\n", stderr);
        return stdin;
    }
    struct stat st;
    FILE *in = fopen(file, "r");
    if (in && hu_sys_fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(in);
        in = NULL;
        errno = EISDIR;
    }
    return in;
}

int cmd_report(int argc, char **argv)
{
    int json = 0;
    const char *file = NULL;
    int rc = parse_args(argc, argv, &json, &file);
    if (rc >= 0)
        return rc;
    FILE *in = open_input(file);
    if (!in) {
        fprintf(stderr, "hostup: %s: %s\n", file, strerror(errno));
        return EX_NOINPUT;
    }
    const char *label = in == stdin ? "stdin" : file;

    struct summary S = { 0 };
    struct target **sorted = NULL;
    int bad = rep_read_records(&S, in);
    int err = errno;
    if (in != stdin)
        fclose(in);
    if (bad) {
        fprintf(stderr, "hostup: %s: %s\n", label, strerror(err));
        rep_free_summary(&S);
        return EX_IOERR;
    }
    rep_finish(&S, &sorted);
    if (json)
        rep_print_json(&S, sorted);
    else
        rep_print_table(&S, sorted);
    free(sorted);
    rep_free_summary(&S);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "hostup: report: writing the output: %s\n", strerror(errno));
        return EX_IOERR;
    }
    return 0;
}
