/* SPDX-License-Identifier: MIT */
/* libhostup.so as the command sees it: where it is, and whether this
 * system's loader can preload it. */
#ifndef HOSTUP_CLI_LIBRARY_H
#define HOSTUP_CLI_LIBRARY_H

#include <stddef.h>

/* libhostup.so next to this program, or HOSTUP_LIBRARY. */
int hu_cli_find_library(char *out, size_t len);
/* 0 if LIB can be preloaded into PROG (NULL: the image's own programs);
 * -1 and the loader's complaint. */
int hu_cli_library_loads(const char *lib, const char *prog, char *why, size_t len);
/* What the library needs, for a message when it cannot load. */
const char *hu_cli_library_hint(void);
/* The ELF interpreter of path (its libc's loader) into interp: 1 if it has
 * one, 0 if it is a static ELF program, -1 if it is no 64-bit ELF file. */
int hu_cli_elf_interp(const char *path, char *interp, size_t len);

#endif
