/* SPDX-License-Identifier: MIT */
/* The next definition of a symbol, found by reading the loaded objects'
 * symbol tables directly (glibc).  dlsym(RTLD_NEXT) costs ~850
 * instructions a name, and, made lazily from inside a program, it would
 * disturb the program: a successful dlsym clears (and free()s) the
 * thread's pending dlerror() message, takes the loader's lock and may
 * call malloc, none of which a wrapper called from a signal handler or
 * between the program's dlopen() and its dlerror() may do.  This reads
 * only memory the loader has finished with: no lock, no allocation, no
 * errno, no dlerror state.
 *
 * The order is dlsym's: the objects after this library in the loader's
 * list (load order, which for the objects loaded at start-up is the
 * global search order: the program, the preloaded libraries, then their
 * dependencies breadth first), up to and including libc.  A call found
 * nowhere up to libc (dlopen in libdl, epoll_pwait2 or statx in an older
 * glibc) is left to dlsym: objects after libc may be dependencies of
 * dependencies, where dlsym looks, or dlopen'ed ones, where it may not.
 * The version taken is the default one, as dlsym takes it.  Whenever the
 * tables cannot be read as expected (no GNU hash table, an IFUNC, our
 * own entry not found) the answer is "cannot tell" and the caller uses
 * dlsym. */
#define _GNU_SOURCE
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "elfsym.h"

#ifdef __GLIBC__

extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));

struct tables {
    const ElfW(Sym) *sym;
    const char *str;
    const uint32_t *gnu;        /* DT_GNU_HASH */
    const ElfW(Half) *versym;   /* may be NULL */
    const char *soname;
};

/* glibc rebases the dynamic section's addresses in place; the vDSO's
 * (read-only) are offsets. */
static uintptr_t addr_of(const struct link_map *l, ElfW(Addr) p)
{
    return p < l->l_addr ? l->l_addr + p : p;
}

static int read_tables(const struct link_map *l, struct tables *t)
{
    uintptr_t soname = 0;
    int have_soname = 0;
    memset(t, 0, sizeof *t);
    if (!l->l_ld)
        return -1;
    for (const ElfW(Dyn) *d = l->l_ld; d->d_tag != DT_NULL; d++) {
        switch (d->d_tag) {
        case DT_SYMTAB: t->sym = (const ElfW(Sym) *)addr_of(l, d->d_un.d_ptr); break;
        case DT_STRTAB: t->str = (const char *)addr_of(l, d->d_un.d_ptr); break;
        case DT_GNU_HASH: t->gnu = (const uint32_t *)addr_of(l, d->d_un.d_ptr); break;
        case DT_VERSYM: t->versym = (const ElfW(Half) *)addr_of(l, d->d_un.d_ptr); break;
        case DT_SONAME: soname = d->d_un.d_val; have_soname = 1; break;
        default: break;
        }
    }
    if (!t->sym || !t->str || !t->gnu)
        return -1;
    t->soname = have_soname ? t->str + soname : "";
    return 0;
}

static uint32_t gnu_hash(const char *s)
{
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = h * 33 + *p;
    return h;
}

/* 1: found (*out), 0: not defined here, -1: cannot tell */
static int lookup_in(const struct link_map *l, const struct tables *t, const char *name,
                     uint32_t h, int objects, void **out)
{
    const uint32_t nbuckets = t->gnu[0], symoffset = t->gnu[1], bloom_size = t->gnu[2],
                   shift = t->gnu[3];
    const ElfW(Addr) *bloom = (const ElfW(Addr) *)(t->gnu + 4);
    const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    const unsigned bits = sizeof(ElfW(Addr)) * 8;
    if (!nbuckets || !bloom_size)
        return 0;
    ElfW(Addr) word = bloom[(h / bits) % bloom_size];
    if (!((word >> (h % bits)) & (word >> ((h >> shift) % bits)) & 1))
        return 0;
    uint32_t i = buckets[h % nbuckets];
    if (i < symoffset)
        return 0;
    for (;; i++) {
        uint32_t ch = chain[i - symoffset];
        const ElfW(Sym) *s = &t->sym[i];
        if ((ch | 1) == (h | 1) && strcmp(t->str + s->st_name, name) == 0 &&
            s->st_shndx != SHN_UNDEF && (!t->versym || (t->versym[i] & 0x7fff) < 2 ||
                                         !(t->versym[i] & 0x8000))) {
            int type = ELF64_ST_TYPE(s->st_info);
            if (type == STT_GNU_IFUNC)
                return -1;
            if (type == (objects ? STT_OBJECT : STT_FUNC) ||
                (!objects && type == STT_NOTYPE)) {
                *out = (void *)(l->l_addr + s->st_value);
                return 1;
            }
        }
        if (ch & 1)
            return 0;
    }
}

int hu_elf_next(const char *name, int from_start, void **out)
{
    const struct link_map *l = _r_debug.r_map;
    *out = NULL;
    if (!from_start) {
        while (l && l->l_ld != _DYNAMIC)
            l = l->l_next;
        if (!l)
            return -1;
        l = l->l_next;
    }
    uint32_t h = gnu_hash(name);
    for (; l; l = l->l_next) {
        struct tables t;
        if (read_tables(l, &t) < 0) {
            if (l->l_name && strncmp(l->l_name, "linux-vdso", 10) == 0)
                continue;       /* nothing of ours is there */
            return -1;
        }
        int rc = lookup_in(l, &t, name, h, from_start, out);
        if (rc != 0)
            return rc;
        if (strncmp(t.soname, "libc.so", 7) == 0)
            return -1;          /* libc lacks it: dlsym's answer */
    }
    return -1;
}

#else /* musl: dlsym there neither locks out signal handlers' way nor
       * clears an error on success; real.c uses it directly */

int hu_elf_next(const char *name, int from_start, void **out)
{
    (void)name;
    (void)from_start;
    *out = NULL;
    return -1;
}

#endif
