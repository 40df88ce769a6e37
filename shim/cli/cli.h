/* SPDX-License-Identifier: MIT */
/* The hostup command's subcommands: main.c dispatches to these, one file
 * (or file family) each. */
#ifndef HOSTUP_CLI_H
#define HOSTUP_CLI_H

#define EX_USAGE 64     /* sysexits.h values, spelled out */
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70
#define EX_CANTCREAT 73
#define EX_IOERR 74
#define EX_CONFIG 78

int cmd_run(int argc, char **argv);           /* run.c */
int cmd_policy(int argc, char **argv);        /* policy_cmd.c */
int cmd_check_config(int argc, char **argv);  /* policy_cmd.c */
int cmd_doctor(int argc, char **argv);        /* doctor.c */
int cmd_report(int argc, char **argv);        /* report.c */
int cmd_status(int argc, char **argv);        /* status.c */
int cmd_metrics(int argc, char **argv);       /* status.c */

#endif
