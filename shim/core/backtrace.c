/* SPDX-License-Identifier: MIT */
/* The program's frames that led to a failed call, via libunwind.
 *
 * libunwind is opened with dlopen on the first failure, not linked: the
 * library then loads in a plain glibc image without libunwind installed,
 * and simply leaves "backtrace" out of its records there. */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#if !__has_include(<libunwind.h>)
/* No libunwind header to build against (the musl build): no backtraces. */
#include "log.h"
json_t *hu_backtrace_json(int max_frames)
{
    (void)max_frames;
    return NULL;
}
#else
#include <dlfcn.h>
#include <libunwind.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sys/optlibs.h"

#define STR2(x) #x
#define STR(x) STR2(x)

static struct {
    int (*getcontext)(unw_context_t *);
    int (*init_local)(unw_cursor_t *, unw_context_t *);
    int (*step)(unw_cursor_t *);
    int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
    int (*get_proc_name)(unw_cursor_t *, char *, size_t, unw_word_t *);
} unw;
static pthread_once_t unw_once = PTHREAD_ONCE_INIT;

static void load_unwind(void)
{
    static const char *const names[] = {"libunwind.so.8", "libunwind.so"};
    void *h = NULL;
    /* hu_dlopen: the next dlopen, not by name (inside libhostup.so the name
     * is the library's own wrapper, wrap/dlopen.c) */
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !h; i++)
        h = hu_dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return;
    /* the header maps unw_* to arch-specific names; stringify them */
    *(void **)&unw.getcontext = hu_dlsym(h, STR(unw_tdep_getcontext));
    *(void **)&unw.init_local = hu_dlsym(h, STR(unw_init_local));
    *(void **)&unw.step = hu_dlsym(h, STR(unw_step));
    *(void **)&unw.get_reg = hu_dlsym(h, STR(unw_get_reg));
    *(void **)&unw.get_proc_name = hu_dlsym(h, STR(unw_get_proc_name));
    if (!unw.getcontext || !unw.init_local || !unw.step || !unw.get_reg || !unw.get_proc_name)
        unw.getcontext = NULL;
}

json_t *hu_backtrace_json(int max_frames)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    Dl_info self;
    hu_once(&unw_once, load_unwind);
    if (!unw.getcontext || !hu_dladdr((void *)hu_backtrace_json, &self))
        return NULL;
    if (unw.getcontext(&ctx) != 0 || unw.init_local(&cur, &ctx) != 0)
        return NULL;
    json_t *frames = json_array();
    int steps = 0;
    while (json_array_size(frames) < (size_t)max_frames && steps++ < 64 && unw.step(&cur) > 0) {
        unw_word_t ip = 0, off = 0;
        Dl_info di;
        char name[256], line[400];
        unw.get_reg(&cur, UNW_REG_IP, &ip);
        /* our own frames tell the user nothing */
        if (hu_dladdr((void *)ip, &di) && di.dli_fbase == self.dli_fbase)
            continue;
        const char *mod = di.dli_fname ? strrchr(di.dli_fname, '/') : NULL;
        mod = mod ? mod + 1 : (di.dli_fname ? di.dli_fname : "?");
        if (unw.get_proc_name(&cur, name, sizeof name, &off) == 0)
            snprintf(line, sizeof line, "%s+0x%lx (%s)", name, (unsigned long)off, mod);
        else
            snprintf(line, sizeof line, "0x%lx (%s)", (unsigned long)ip, mod);
        json_t *s = json_string(line);
        if (s)
            json_array_append_new(frames, s);
    }
    return frames;
}
#endif
