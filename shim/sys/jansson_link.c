/* SPDX-License-Identifier: MIT */
/* Debian ships libjansson.a built as PIE code, not PIC.  Its one reference
 * that cannot go into a shared object is to `stdin` (json_loadf compares
 * its argument with stdin only to label error messages "<stdin>").  This
 * private, hidden definition satisfies that reference inside the library,
 * so jansson links in statically and ldd shows no libjansson.  The library
 * never reads from stdin; the program's own stdin is untouched. */
#include <features.h>
#ifdef __GLIBC__
__attribute__((visibility("hidden"))) void *stdin = 0;
#endif
/* musl: jansson is built from source as PIC (tests/musl_jansson.sh), so
 * its stdin is musl's own and nothing is needed here. */
