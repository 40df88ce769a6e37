/* hostup doctor: placeholder. */
#include "cli.h"
int cmd_doctor(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "hostup: doctor: not yet\n"); return EX_SOFTWARE; }
