/* The hostup command's subcommands, one file each. */
#ifndef HOSTUP_CLI_H
#define HOSTUP_CLI_H

#include <stdio.h>

#define EX_USAGE 64     /* sysexits.h values, spelled out */
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_UNAVAILABLE 69
#define EX_SOFTWARE 70

int cmd_doctor(int argc, char **argv);   /* cli_doctor.c */
int cmd_report(int argc, char **argv);   /* cli_report.c */
int cmd_status(int argc, char **argv);   /* cli_status.c */
int cmd_metrics(int argc, char **argv);  /* cli_status.c */

/* libhostup.so next to this program, or HOSTUP_LIBRARY (cli.c). */
int hu_cli_find_library(char *out, size_t len);
/* 0 if LIB can be preloaded into PROG (NULL: the image's own programs);
 * -1 and the loader's complaint. */
int hu_cli_library_loads(const char *lib, const char *prog, char *why, size_t len);
/* What the library needs, for a message when it cannot load. */
const char *hu_cli_library_hint(void);

/* Colour only on a terminal, never with NO_COLOR (cli.c). */
int hu_cli_colour(FILE *f);
const char *hu_cli_paint(FILE *f, const char *code);  /* "" when no colour */

#endif
