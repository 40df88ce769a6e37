/* SPDX-License-Identifier: MIT */
/* dlopen without RTLD_DEEPBIND.  A library opened with RTLD_DEEPBIND looks
 * up its symbols in itself and its own dependencies before the global
 * scope, so its calls to connect, poll, read... go straight to libc and
 * never reach a preloaded library: PHP opens every extension so, and
 * php-curl's connections were retried by nothing and reported by nothing.
 * Interposers meet this alike (ASan refuses such a dlopen and stops the
 * program; jemalloc, tcmalloc and mimalloc crash on mixed allocators; PHP
 * itself stopped passing the flag where dlmopen exists), and the cure
 * they converge on is not to pass it.  So the flag is dropped, unless
 * HOSTUP_DEEPBIND=keep (docs/retries.md, "Limits").
 *
 * The wrapper must leave the loader's view of the call unchanged: glibc's
 * dlopen takes its caller from its own return address and searches that
 * object's DT_RUNPATH (and picks its namespace).  A C wrapper would make
 * libhostup the caller; so dlopen is a few instructions that ask
 * hu_dlopen_enter for the real dlopen and the mode and then jump to it,
 * with the caller's return address still in place: a true tail call on
 * every path.  musl has no RTLD_DEEPBIND and ignores the caller; the same
 * code passes its calls through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sys/real.h"

/* The real dlopen, if dlsym could not find one: fail as a missing call. */
static void *no_dlopen(const char *file, int mode)
{
    (void)file, (void)mode;
    errno = ENOSYS;
    return NULL;
}

/* Called by the dlopen below: the real dlopen to jump to, *mode adjusted.
 * errno is kept (dlopen's own setting of it is the real call's). */
void *hu_dlopen_enter(const char *file, int *mode) HU_HIDDEN;
void *hu_dlopen_enter(const char *file, int *mode)
{
    (void)file, (void)mode;
    hu_ensure_bound();
#ifdef RTLD_DEEPBIND
    if ((*mode & RTLD_DEEPBIND) && !hu_guard) {
        const char *keep = getenv("HOSTUP_DEEPBIND");
        if (!keep || strcmp(keep, "keep") != 0)
            *mode &= ~RTLD_DEEPBIND;
    }
#endif
    void *real = hu_real_dlopen_now();
    return real ? real : (void *)no_dlopen;
}

/* dlopen(file, mode): save the arguments, let hu_dlopen_enter adjust the
 * mode, restore them and jump (not call) to the real dlopen. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl dlopen\n"
        ".type dlopen,@function\n"
        "dlopen:\n"
        ".cfi_startproc\n"
        "endbr64\n"
        "push %rdi\n"                   /* file */
        ".cfi_adjust_cfa_offset 8\n"
        "push %rsi\n"                   /* mode, at 8(%rsp) after the sub */
        ".cfi_adjust_cfa_offset 8\n"
        "sub $8, %rsp\n"                /* the call needs %rsp 16-aligned */
        ".cfi_adjust_cfa_offset 8\n"
        "lea 8(%rsp), %rsi\n"
        "call hu_dlopen_enter\n"
        "mov 8(%rsp), %esi\n"
        "mov 16(%rsp), %rdi\n"
        "add $24, %rsp\n"
        ".cfi_adjust_cfa_offset -24\n"
        "jmp *%rax\n"
        ".cfi_endproc\n"
        ".size dlopen, .-dlopen\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl dlopen\n"
        ".type dlopen,%function\n"
        ".p2align 2\n"
        "dlopen:\n"
        ".cfi_startproc\n"
        "hint #34\n"                    /* bti c */
        "stp x29, x30, [sp, #-32]!\n"
        ".cfi_def_cfa_offset 32\n"
        ".cfi_offset 29, -32\n"
        ".cfi_offset 30, -24\n"
        "mov x29, sp\n"
        "str x0, [sp, #16]\n"           /* file */
        "str w1, [sp, #24]\n"           /* mode */
        "add x1, sp, #24\n"
        "bl hu_dlopen_enter\n"
        "mov x16, x0\n"
        "ldr x0, [sp, #16]\n"
        "ldr w1, [sp, #24]\n"
        "ldp x29, x30, [sp], #32\n"     /* x30: the caller's return address again */
        ".cfi_restore 29\n"
        ".cfi_restore 30\n"
        ".cfi_def_cfa_offset 0\n"
        "br x16\n"
        ".cfi_endproc\n"
        ".size dlopen, .-dlopen\n");
#elif defined(__has_attribute) && __has_attribute(musttail)
void *dlopen(const char *file, int mode)
{
    void *(*real)(const char *, int) = (void *(*)(const char *, int))hu_dlopen_enter(file, &mode);
    __attribute__((musttail)) return real(file, mode);
}
#else
#error "dlopen needs a tail call to the real one (see the comment at the top): add this architecture"
#endif
