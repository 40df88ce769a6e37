/* SPDX-License-Identifier: MIT */
/* hostup: the command.  Runs programs under libhostup.so, explains and
 * validates policies with the very parser the library uses, and reads what
 * the library wrote.  This file only dispatches: each subcommand lives in
 * its own file (cli.h), the helpers they share in common.c and library.c,
 * what the command says about itself in help.c. */
#include <stdio.h>
#include <string.h>

#include "hostup/hostup.h"
#include "cli.h"
#include "help.h"

static const struct { const char *name; int (*run)(int argc, char **argv); } commands[] = {
    {"run", cmd_run},
    {"policy", cmd_policy},
    {"check-config", cmd_check_config},
    {"doctor", cmd_doctor},
    {"report", cmd_report},
    {"status", cmd_status},
    {"metrics", cmd_metrics},
};

static int is_help(const char *a)
{
    return strcmp(a, "help") == 0 || strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* hostup help [CMD] */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        hu_cli_usage(stdout);
        return 0;
    }
    if (hu_cli_help(argv[2], stdout) == 0)
        return 0;
    const char *guess = hu_cli_suggest(argv[2]);
    fprintf(stderr, "hostup: help: unknown command '%s'%s%s%s\n", argv[2], guess ? "; did you mean '" : "",
            guess ? guess : "", guess ? "'?" : "");
    return EX_USAGE;
}

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
    if (is_help(c))
        return help(argc, argv);
    /* one line, not the whole usage: the user knows what they meant */
    const char *guess = c[0] != '-' ? hu_cli_suggest(c) : NULL;
    if (guess)
        fprintf(stderr, "hostup: unknown command '%s'; did you mean '%s'?\n", c, guess);
    else
        fprintf(stderr, "hostup: unknown %s '%s'; see 'hostup --help'\n", c[0] == '-' ? "option" : "command", c);
    return EX_USAGE;
}
