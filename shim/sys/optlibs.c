/* SPDX-License-Identifier: MIT */
/* The weakly referenced calls of optlibs.h.  Every use in the library and
 * the core goes through here: one strong reference anywhere would make
 * the symbol strong again. */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>

#include "optlibs.h"

#pragma weak pthread_once
#pragma weak pthread_create
#pragma weak pthread_attr_setstacksize
#pragma weak dlsym
#pragma weak dladdr
#ifdef __GLIBC__
#pragma weak dladdr1
#endif

void hu_once(pthread_once_t *once, void (*fn)(void))
{
    if (pthread_once) {
        pthread_once(once, fn);
        return;
    }
    /* no libpthread before glibc 2.34: one thread */
    if (__atomic_exchange_n((int *)once, 1, __ATOMIC_ACQ_REL) == 0)
        fn();
}

int hu_thread_start(pthread_attr_t *a, size_t stack, void *(*fn)(void *), void *arg)
{
    pthread_t t;
    if (!pthread_create || !pthread_attr_setstacksize)
        return ENOSYS;
    pthread_attr_setstacksize(a, stack);
    return pthread_create(&t, a, fn, arg);
}

/* The next dlopen, looked up: inside libhostup.so the name dlopen is the
 * library's own wrapper (wrap/dlopen.c). */
void *hu_dlopen(const char *name, int flags)
{
    void *(*next)(const char *, int) =
        dlsym ? (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen") : NULL;
    return next ? next(name, flags) : NULL;
}
void *hu_dlsym(void *handle, const char *name) { return dlsym ? dlsym(handle, name) : NULL; }
int hu_dladdr(const void *addr, Dl_info *info) { return dladdr ? dladdr(addr, info) : 0; }

int hu_dladdr_sized(const void *addr, Dl_info *info, size_t *size)
{
    *size = 0;
#ifdef __GLIBC__
    const ElfW(Sym) *sym = NULL;
    if (dladdr1) {
        int rc = dladdr1(addr, info, (void **)&sym, RTLD_DL_SYMENT);
        if (rc && sym)
            *size = sym->st_size;
        return rc;
    }
#endif
    return hu_dladdr(addr, info);
}
