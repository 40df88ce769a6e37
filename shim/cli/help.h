/* SPDX-License-Identifier: MIT */
/* What the command says about itself: the global usage, each subcommand's
 * help from one table (help.c), and a guess at a mistyped command. */
#ifndef HOSTUP_CLI_HELP_H
#define HOSTUP_CLI_HELP_H

#include <stdio.h>

/* The whole command's usage (hostup --help): every command and option. */
void hu_cli_usage(FILE *out);
/* CMD's own help (hostup help CMD, hostup CMD --help); -1 if no such CMD. */
int hu_cli_help(const char *cmd, FILE *out);
/* "usage: hostup CMD ..." in one line, for usage errors. */
void hu_cli_synopsis(const char *cmd, FILE *out);
/* The command WORD was probably meant to be, or NULL. */
const char *hu_cli_suggest(const char *word);

#endif
