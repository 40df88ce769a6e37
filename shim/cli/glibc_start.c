/* SPDX-License-Identifier: MIT */
/* The CLI's start on glibc: glibc 2.34 gave __libc_start_main a new symbol
 * version, and the crt1.o of a new glibc binds that one, so the program
 * would not start on an older glibc.  The link wraps the call (ld --wrap)
 * and hands it to the oldest version, which every glibc since 2.2.5 has.
 *
 * The new crt1.o passes no init function: glibc 2.34+ then runs the
 * program's constructors itself, older ones expect crt1's __libc_csu_init
 * to.  So we always pass our own, which runs _init and .init_array, and
 * every glibc calls it instead of its own.  ld.so runs .fini_array. */
#ifdef HU_GLIBC_BASE
#include <stddef.h>

typedef int hu_main_fn(int, char **, char **);

int hu_libc_start_main_old(hu_main_fn *, int, char **, void (*)(int, char **, char **),
                           void (*)(void), void (*)(void), void *);
__asm__(".symver hu_libc_start_main_old,__libc_start_main@" HU_GLIBC_BASE);

extern void (*__init_array_start[])(int, char **, char **) __attribute__((weak));
extern void (*__init_array_end[])(int, char **, char **) __attribute__((weak));
extern void _init(void);

static void run_constructors(int argc, char **argv, char **envp)
{
    _init();
    size_t n = (size_t)(__init_array_end - __init_array_start);
    for (size_t i = 0; i < n; i++)
        __init_array_start[i](argc, argv, envp);
}

int __wrap___libc_start_main(hu_main_fn *main_fn, int argc, char **argv,
                             void (*init)(int, char **, char **), void (*fini)(void),
                             void (*rtld_fini)(void), void *stack_end);
int __wrap___libc_start_main(hu_main_fn *main_fn, int argc, char **argv,
                             void (*init)(int, char **, char **), void (*fini)(void),
                             void (*rtld_fini)(void), void *stack_end)
{
    (void)init;
    (void)fini;
    return hu_libc_start_main_old(main_fn, argc, argv, run_constructors, NULL, rtld_fini,
                                  stack_end);
}
#endif
