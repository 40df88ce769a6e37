/* Binding the real calls (real.h): each name of calls.def looked up with
 * dlsym(RTLD_NEXT), by the first wrapper called on any thread. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>

#include "real.h"

struct hu_real hu_real;
int hu_bound;
__thread int hu_guard __attribute__((tls_model("initial-exec")));

#ifdef HU_MUSL
/* musl: an LFS64 name is the plain call under another name, and a musl may
 * not export it at all (see musl_compat.h) */
static void alias_lfs64(void)
{
#define ALIAS(name64, name) if (!hu_real.name64) *(void **)&hu_real.name64 = (void *)hu_real.name
    ALIAS(open64, open);
    ALIAS(openat64, openat);
    ALIAS(creat64, creat);
    ALIAS(fopen64, fopen);
    ALIAS(freopen64, freopen);
    ALIAS(stat64, stat);
    ALIAS(lstat64, lstat);
    ALIAS(fstatat64, fstatat);
    ALIAS(pread64, pread);
    ALIAS(preadv64, preadv);
#undef ALIAS
}
#endif

void hu_bind(void)
{
    int saved = errno;
    hu_guard++;
#define HU_CALL(ret, name, params) *(void **)&hu_real.name = dlsym(RTLD_NEXT, #name);
#define HU_EXPORT(name)
#include "calls.def"
#undef HU_CALL
#undef HU_EXPORT
    hu_real.stdin_ref = dlsym(RTLD_DEFAULT, "stdin");
#ifdef HU_MUSL
    alias_lfs64();
#endif
    __atomic_store_n(&hu_bound, 1, __ATOMIC_RELEASE);
    hu_guard--;
    errno = saved;
}
