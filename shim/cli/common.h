/* SPDX-License-Identifier: MIT */
/* Helpers every subcommand may use: the options run/policy/check-config
 * share, policy errors, text from outside shown safely, colour on a
 * terminal, a JSON document on stdout.  They call nothing above them. */
#ifndef HOSTUP_CLI_COMMON_H
#define HOSTUP_CLI_COMMON_H

#include <stdio.h>
#include <jansson.h>

#include "hostup/policy.h"

/* --policy/--config/--log/--json, shared by run, policy and check-config,
 * and run's own --lenient, --supervise, --preload-only and --verbose; cmd
 * names the command, for its help and its options. */
struct hu_cli_opts {
    const char *cmd;
    const char *policy, *config, *log;
    int policy_set, config_set, json;
    int lenient, supervise, preload_only, verbose;
};
/* From argv[i] on: the index of the first other argument, or -1 after
 * printing an error; -h/--help prints the command's help and exits. */
int hu_cli_parse_opts(int argc, char **argv, int i, struct hu_cli_opts *o);
/* The policy the library would read (the options override the environment);
 * exits on out of memory. */
hu_policy *hu_cli_load_policy(const struct hu_cli_opts *o);

/* Each error of p on stderr, one a line, as check-config shows them. */
void hu_cli_print_policy_errors(const hu_policy *p);

/* text on f with what a terminal would act on or hide escaped: bytes below
 * 0x20, DEL and bytes that are not UTF-8 as \xNN, C1 and bidi controls as
 * \u{NNNN}, and the backslash itself as \\, so the escaping is unambiguous. */
void hu_cli_put_safe(FILE *f, const char *text);

/* Colour only on a terminal, never with NO_COLOR. */
int hu_cli_colour(FILE *f);
const char *hu_cli_paint(FILE *f, const char *code);  /* "" when no colour */

/* doc indented, in the order it was built, and a newline on stdout
 * ("{}" if it cannot be encoded); takes the reference to doc. */
void hu_cli_put_json(json_t *doc);

#endif
