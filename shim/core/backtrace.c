/* SPDX-License-Identifier: MIT */
/* The program's frames that led to a failed call, via libunwind.
 *
 * libunwind is opened with dlopen on the first failure, not linked: the
 * library then loads in a plain glibc image without libunwind installed,
 * and simply leaves "backtrace" out of its records there.
 *
 * Naming a frame runs in the program's thread, at its recovery too, so it
 * must stay cheap: the loaded dynamic symbols (dladdr, in memory) first;
 * libunwind's name, which maps the object's file and reads its whole
 * symbol table (node: 100 MB, ~8 ms a record), only for a frame they do
 * not name; and each frame's text kept, so the retries of one call site
 * name their frames once. */
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
#include <stdint.h>
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

/* This object's own extent, from the linker: its frames are skipped. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

/* Frames named before: by address, a direct-mapped cache. */
#define FRAME_CACHE 64
static struct {
    unw_word_t ip;
    char text[160];
} frame_cache[FRAME_CACHE];
static pthread_mutex_t frame_lock = PTHREAD_MUTEX_INITIALIZER;

/* libunwind names the nearest symbol before ip; in a stripped file that is
 * a dynamic symbol that ends before ip: no name at all. */
static int dynamic_guess(unw_word_t ip, unw_word_t off, const char *name)
{
    Dl_info d;
    size_t size;
    return hu_dladdr_sized((void *)(ip - off), &d, &size) && d.dli_sname &&
           (unw_word_t)d.dli_saddr == ip - off && off >= size && strcmp(d.dli_sname, name) == 0;
}

/* "name+0xOFF (module)" when a symbol is known to hold ip: the loaded
 * dynamic symbols (sized), else libunwind's name from the file, unless that
 * is only a dynamic symbol that ends before ip (a stripped file).  Else
 * "0xOFF (module)", the offset in the module, for addr2line. */
static void name_uncached(unw_cursor_t *cur, unw_word_t ip, char *out, size_t len)
{
    Dl_info di;
    size_t size = 0;
    char name[256];
    unw_word_t off = 0;
    /* a return address: the call is just before it, maybe at the very end
     * of its function */
    if (!hu_dladdr_sized((void *)(ip - 1), &di, &size))
        memset(&di, 0, sizeof di);
    const char *mod = di.dli_fname ? strrchr(di.dli_fname, '/') : NULL;
    mod = mod ? mod + 1 : (di.dli_fname ? di.dli_fname : "?");
    unw_word_t sym = (unw_word_t)di.dli_saddr;
    if (di.dli_sname && sym && ip - 1 - sym < size)
        snprintf(out, len, "%s+0x%lx (%s)", di.dli_sname, (unsigned long)(ip - sym), mod);
    else if (unw.get_proc_name(cur, name, sizeof name, &off) == 0 && !dynamic_guess(ip, off, name))
        snprintf(out, len, "%s+0x%lx (%s)", name, (unsigned long)off, mod);
    else if (di.dli_fbase)
        snprintf(out, len, "0x%lx (%s)", (unsigned long)(ip - (unw_word_t)di.dli_fbase), mod);
    else
        snprintf(out, len, "0x%lx (?)", (unsigned long)ip);
}

static void name_frame(unw_cursor_t *cur, unw_word_t ip, char *out, size_t len)
{
    unsigned k = (unsigned)((ip >> 4) ^ (ip >> 12)) % FRAME_CACHE;
    pthread_mutex_lock(&frame_lock);
    if (frame_cache[k].ip == ip && ip) {
        snprintf(out, len, "%s", frame_cache[k].text);
        pthread_mutex_unlock(&frame_lock);
        return;
    }
    pthread_mutex_unlock(&frame_lock);
    name_uncached(cur, ip, out, len);
    size_t n = strnlen(out, sizeof frame_cache[k].text - 1);
    pthread_mutex_lock(&frame_lock);
    frame_cache[k].ip = n < sizeof frame_cache[k].text - 1 ? ip : 0;  /* a longer one is not kept */
    memcpy(frame_cache[k].text, out, n);
    frame_cache[k].text[n] = '\0';
    pthread_mutex_unlock(&frame_lock);
}

json_t *hu_backtrace_json(int max_frames)
{
    unw_context_t ctx;
    unw_cursor_t cur;
    hu_once(&unw_once, load_unwind);
    if (!unw.getcontext)
        return NULL;
    if (unw.getcontext(&ctx) != 0 || unw.init_local(&cur, &ctx) != 0)
        return NULL;
    json_t *frames = json_array();
    int steps = 0;
    while (json_array_size(frames) < (size_t)max_frames && steps++ < 64 && unw.step(&cur) > 0) {
        unw_word_t ip = 0;
        char line[400];
        unw.get_reg(&cur, UNW_REG_IP, &ip);
        /* our own frames tell the user nothing */
        if ((uintptr_t)ip - (uintptr_t)__ehdr_start < (uintptr_t)(_end - __ehdr_start))
            continue;
        name_frame(&cur, ip, line, sizeof line);
        json_t *s = json_string(line);
        if (s)
            json_array_append_new(frames, s);
    }
    return frames;
}
#endif
