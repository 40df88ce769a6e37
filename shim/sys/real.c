/* SPDX-License-Identifier: MIT */
/* Binding the real calls (real.h): hu_real starts out as one binder per
 * name of calls.def; the first call of each looks the real one up (the
 * loaded objects' tables, elfsym.c; dlsym where those cannot tell),
 * stores it in hu_real and calls it.  Racing threads store the same
 * value.  A lookup touches neither errno nor the guard's callers. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "elfsym.h"
#include "optlibs.h"
#include "real.h"

__thread int hu_guard __attribute__((tls_model("initial-exec")));
int hu_bound = 1;

/* from_start 0: the next function after this library; 1: the program's
 * data object (stdin). */
static void *lookup(const char *name, int from_start)
{
    void *fn;
    if (hu_elf_next(name, from_start, &fn) >= 0)
        return fn;
    int saved = errno;
    hu_guard++;             /* dlsym may itself call what we wrap */
    fn = hu_dlsym(from_start ? RTLD_DEFAULT : RTLD_NEXT, name);
    hu_guard--;
    errno = saved;
    return fn;
}

/* A name missing from the C library, and the same call under another
 * name: fcntl64 before glibc 2.28; on musl the LFS64 names, which a musl
 * may not export at all (musl_compat.h). */
static const char aliases[][2][12] = {
    {"fcntl64", "fcntl"}, {"open64", "open"}, {"openat64", "openat"}, {"creat64", "creat"},
    {"fopen64", "fopen"}, {"freopen64", "freopen"}, {"stat64", "stat"}, {"lstat64", "lstat"},
    {"fstatat64", "fstatat"}, {"pread64", "pread"}, {"preadv64", "preadv"},
};

static void *bind_slot(void **slot, const char *name, void *missing)
{
    void *fn = lookup(name, 0);
    for (size_t i = 0; !fn && i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i][0], name) == 0)
            fn = lookup(aliases[i][1], 0);
    if (!fn)
        fn = missing;
    __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    return fn;
}

/* What a missing call returns, by its type: NULL, 0 items, or -1. */
#define FAILED(ret) _Generic((ret)0, FILE *: (ret)0, char *: (ret)0, struct hostent *: (ret)0, \
                             size_t: (ret)0, default: (ret)-1L)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
/* NOLINTBEGIN(bugprone-macro-parentheses): params and args are lists */
#define BINDER(ret, name, params)                                                    \
    static ret missing_##name params                                                 \
    {                                                                                \
        errno = ENOSYS;                                                              \
        return FAILED(ret);                                                          \
    }                                                                                \
    static ret (*bind_now_##name(void)) params                                       \
    {                                                                                \
        return (ret(*) params)bind_slot((void **)&hu_real.name, #name,               \
                                        (void *)missing_##name);                     \
    }
#define HU_CALL(ret, name, params, args)                                             \
    BINDER(ret, name, params)                                                        \
    static ret bind_##name params { return bind_now_##name() args; }
/* The variadic calls (open's mode, fcntl's argument): the one optional
 * argument is passed on as a pointer, as glibc's own fcntl reads it (an
 * int travels in the same register); our callers always pass it. */
#define HU_CALL_VA(ret, name, params, last, args)                                    \
    BINDER(ret, name, params)                                                        \
    static ret bind_##name params                                                    \
    {                                                                                \
        va_list ap;                                                                  \
        va_start(ap, last);                                                          \
        void *va = va_arg(ap, void *);                                               \
        va_end(ap);                                                                  \
        return bind_now_##name() args;                                               \
    }
#define HU_EXPORT(name)
#include "calls.def"
#undef HU_CALL
#undef HU_CALL_VA
#undef BINDER
/* NOLINTEND(bugprone-macro-parentheses) */
#pragma GCC diagnostic pop

/* The real dlopen itself, bound now if it was not yet; NULL when missing.
 * wrap/dlopen.c jumps to it with its caller's return address in place, so
 * it must never be the binder (whose call would make us dlopen's caller). */
void *hu_real_dlopen_now(void)
{
    void *fn = (void *)__atomic_load_n(&hu_real.dlopen, __ATOMIC_ACQUIRE);
    if (fn == (void *)bind_dlopen)
        fn = (void *)bind_now_dlopen();
    return fn == (void *)missing_dlopen ? NULL : fn;
}

struct hu_real hu_real = {
#define HU_CALL(ret, name, params, args) .name = bind_##name,
#define HU_CALL_VA(ret, name, params, last, args) .name = bind_##name,
#include "calls.def"
#undef HU_CALL
#undef HU_CALL_VA
#undef HU_EXPORT
};

FILE **hu_real_stdin_ref(void)
{
    static FILE **ref;
    FILE **r = __atomic_load_n(&ref, __ATOMIC_RELAXED);
    if (HU_UNLIKELY(!r)) {
        r = lookup("stdin", 1);
        __atomic_store_n(&ref, r, __ATOMIC_RELAXED);
    }
    return r;
}
