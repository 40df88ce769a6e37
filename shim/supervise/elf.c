/* SPDX-License-Identifier: MIT */
/* What kind of program a file is: dynamically linked (the library reaches
 * it), static, or Go (the supervisor's: Go makes its system calls itself,
 * so even a Go program linked against libc connects past LD_PRELOAD). */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "supervise.h"

int hu_sv_elf_interp(const char *path, char *interp, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    Elf64_Ehdr eh;
    interp[0] = '\0';
    if (fd < 0)
        return -1;
    if (read(fd, &eh, sizeof eh) == (ssize_t)sizeof eh && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64) {
        rc = 0;
        for (int i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) != (ssize_t)sizeof ph)
                break;
            if (ph.p_type != PT_INTERP)
                continue;
            size_t n = ph.p_filesz < len ? (size_t)ph.p_filesz : len - 1;
            ssize_t r = pread(fd, interp, n, (off_t)ph.p_offset);
            interp[r > 0 ? (size_t)r : 0] = '\0';
            rc = 1;
            break;
        }
    }
    close(fd);
    return rc;
}

/* Has the ELF file a section named .go.buildinfo (Go 1.13+ writes it, and
 * stripping keeps it) or .note.go.buildid? */
static int is_go(int fd)
{
    Elf64_Ehdr eh;
    Elf64_Shdr names;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || eh.e_shentsize != sizeof names ||
        eh.e_shstrndx == SHN_UNDEF || eh.e_shnum > 4096 ||
        pread(fd, &names, sizeof names, (off_t)(eh.e_shoff + (Elf64_Off)eh.e_shstrndx * sizeof names)) !=
            (ssize_t)sizeof names)
        return 0;
    for (int i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        char name[24] = "";
        if (pread(fd, &sh, sizeof sh, (off_t)(eh.e_shoff + (Elf64_Off)i * sizeof sh)) != (ssize_t)sizeof sh)
            return 0;
        if (sh.sh_name >= names.sh_size ||
            pread(fd, name, sizeof name - 1, (off_t)(names.sh_offset + sh.sh_name)) <= 0)
            continue;
        if (strcmp(name, ".go.buildinfo") == 0 || strcmp(name, ".note.go.buildid") == 0)
            return 1;
    }
    return 0;
}

enum hu_sv_kind hu_sv_program_kind(const char *path)
{
    char interp[256];
    int rc = path && path[0] ? hu_sv_elf_interp(path, interp, sizeof interp) : -1;
    if (rc < 0)
        return HU_SV_NOT_ELF;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int go = fd >= 0 && is_go(fd);
    if (fd >= 0)
        close(fd);
    if (go)
        return HU_SV_GO;
    return rc == 0 ? HU_SV_STATIC : HU_SV_DYNAMIC;
}

const char *hu_sv_kind_name(enum hu_sv_kind k)
{
    switch (k) {
    case HU_SV_GO: return "a Go program";
    case HU_SV_STATIC: return "statically linked";
    case HU_SV_DYNAMIC: return "dynamically linked";
    default: return "not an ELF program";
    }
}
