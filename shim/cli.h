/* The hostup command's subcommands, one file each. */
#ifndef HOSTUP_CLI_H
#define HOSTUP_CLI_H

#include <stdio.h>

#define EX_USAGE 64     /* sysexits.h values, spelled out */
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_SOFTWARE 70

int cmd_doctor(int argc, char **argv);   /* cli_doctor.c */
int cmd_report(int argc, char **argv);   /* cli_report.c */

/* Colour only on a terminal, never with NO_COLOR (cli.c). */
int hu_cli_colour(FILE *f);
const char *hu_cli_paint(FILE *f, const char *code);  /* "" when no colour */

#endif
