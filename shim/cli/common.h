/* Helpers every subcommand may use: the command's usage, the options
 * run/policy/check-config share, colour on a terminal, a JSON document on
 * stdout.  They call nothing above them. */
#ifndef HOSTUP_CLI_COMMON_H
#define HOSTUP_CLI_COMMON_H

#include <stdio.h>
#include <jansson.h>

#include "hostup/policy.h"

/* The whole command's usage (hostup --help). */
void hu_cli_usage(FILE *out);

/* --policy/--config/--log/--json, shared by run, policy and check-config. */
struct hu_cli_opts { const char *policy, *config, *log; int policy_set, config_set, json; };
/* From argv[i] on: the index of the first other argument, or -1 after
 * printing an error; -h/--help prints the usage and exits. */
int hu_cli_parse_opts(int argc, char **argv, int i, struct hu_cli_opts *o);
/* The policy the library would read (the options override the environment);
 * exits on out of memory. */
hu_policy *hu_cli_load_policy(const struct hu_cli_opts *o);

/* Colour only on a terminal, never with NO_COLOR. */
int hu_cli_colour(FILE *f);
const char *hu_cli_paint(FILE *f, const char *code);  /* "" when no colour */

/* doc indented, in the order it was built, and a newline on stdout
 * ("{}" if it cannot be encoded); takes the reference to doc. */
void hu_cli_put_json(json_t *doc);

#endif
