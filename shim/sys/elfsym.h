/* SPDX-License-Identifier: MIT */
/* A symbol's next definition read from the loaded objects' own tables
 * (elfsym.c), for binding the real calls without dlsym. */
#ifndef HOSTUP_SYS_ELFSYM_H
#define HOSTUP_SYS_ELFSYM_H

/* from_start 0: the next function called name after this library, as
 * dlsym(RTLD_NEXT) finds it; 1: the first data object called name from
 * the program on, as dlsym(RTLD_DEFAULT).  Returns 1 with *out, -1 when
 * it cannot tell (not up to libc, or the tables are unusual: use dlsym). */
int hu_elf_next(const char *name, int from_start, void **out) __attribute__((visibility("hidden")));

#endif
