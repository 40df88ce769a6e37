/* SPDX-License-Identifier: MIT */
/* hostup run's supervisor: what the command calls.
 *
 * Programs the loader never preloads into (static binaries, Go binaries)
 * get connect retry from outside: the child installs a seccomp filter that
 * traps connect(2) only and hands the filter's listener to the parent; the
 * parent (this process) makes each trapped TCP connect itself on the
 * program's own socket, retries it under the same policy, herd and records
 * as the library, and answers the trapped call only with the final result.
 * The parent is also an init for the program: it reaps, forwards signals
 * and exits with the program's status (container PID 1). */
#ifndef HOSTUP_SUPERVISE_H
#define HOSTUP_SUPERVISE_H

#include <stddef.h>

/* What a program file is, for the choice between preload and supervisor. */
enum hu_sv_kind {
    HU_SV_NOT_ELF,      /* a script, or unreadable: the loader decides */
    HU_SV_DYNAMIC,      /* an ELF program with an interpreter (ld.so) */
    HU_SV_STATIC,       /* no interpreter: LD_PRELOAD cannot reach it */
    HU_SV_GO,           /* Go build info in the ELF: its connects bypass libc */
};
enum hu_sv_kind hu_sv_program_kind(const char *path);
const char *hu_sv_kind_name(enum hu_sv_kind k);
/* The ELF interpreter of path into interp: 1 if it has one, 0 if it is a
 * static ELF program, -1 if it is no 64-bit ELF file. */
int hu_sv_elf_interp(const char *path, char *interp, size_t len);

struct hu_sv_opts {
    int supervise;      /* trap connects; 0: only be the program's init */
    int verbose;        /* one stderr line saying what was chosen */
    const char *why;    /* why the supervisor was chosen, for that line */
};

/* Runs argv (argv[0] found in PATH as execvp does) under the supervisor
 * and returns the status to exit with: the program's, or 128+signal.
 * Never fails to start the program for want of the supervisor: without
 * kernel support, or when seccomp is refused, it runs unsupervised behind
 * one "unsupervised" record. */
int hu_sv_run(char **argv, const struct hu_sv_opts *o);

#endif
