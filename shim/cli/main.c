/* hostup: the command.  Runs programs under libhostup.so, explains and
 * validates policies with the very parser the library uses, and reads what
 * the library wrote.  This file only dispatches: each subcommand lives in
 * its own file (cli.h), the helpers they share in common.c and library.c. */
#include <stdio.h>
#include <string.h>

#include "hostup/hostup.h"
#include "cli.h"
#include "common.h"

static const struct { const char *name; int (*run)(int argc, char **argv); } commands[] = {
    {"run", cmd_run},
    {"policy", cmd_policy},
    {"check-config", cmd_check_config},
    {"doctor", cmd_doctor},
    {"report", cmd_report},
    {"status", cmd_status},
    {"metrics", cmd_metrics},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        hu_cli_usage(stderr);
        return EX_USAGE;
    }
    const char *c = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(c, commands[i].name) == 0)
            return commands[i].run(argc, argv);
    if (strcmp(c, "version") == 0 || strcmp(c, "--version") == 0) {
        printf("hostup %s\n", HOSTUP_VERSION);
        return 0;
    }
    if (strcmp(c, "help") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) {
        hu_cli_usage(stdout);
        return 0;
    }
    fprintf(stderr, "hostup: unknown command '%s'\n", c);
    hu_cli_usage(stderr);
    return EX_USAGE;
}
