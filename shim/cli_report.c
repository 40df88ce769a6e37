/* hostup report: placeholder until the summary lands. */
#include "cli.h"
int cmd_report(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "hostup: report: not yet\n"); return EX_SOFTWARE; }
