/* SPDX-License-Identifier: MIT */
/* libhostup.so as the command sees it (library.h): found next to the
 * program, and tried under this system's loader before anything is run
 * with it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostup/hostup.h"
#include "library.h"
#include "supervise/supervise.h"

/* The library next to us: <prefix>/bin/hostup -> <prefix>/lib/hostup/,
 * or the build tree where both sit in one folder. */
int hu_cli_find_library(char *out, size_t len)
{
    const char *env = getenv("HOSTUP_LIBRARY");
    if (env && access(env, R_OK) == 0) {
        snprintf(out, len, "%s", env);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    static const char *const rel[] = {"/../lib/hostup/libhostup.so", "/libhostup.so"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char cand[PATH_MAX + 64];
        snprintf(cand, sizeof cand, "%s%s", self, rel[i]);
        if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < len)
            return 0;
    }
    return -1;
}

int hu_cli_elf_interp(const char *path, char *interp, size_t len)
{
    return hu_sv_elf_interp(path, interp, len);
}

/* true, with LIB preloaded and stderr into the pipe; its pid, or -1. */
static pid_t start_true(const char *t, const char *lib, const int pfd[2])
{
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        setenv("LD_PRELOAD", lib, 1);
        setenv(HOSTUP_ENV_LOG, "off", 1);
        execl(t, t, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* A library built for another libc, or for a newer glibc than the image
 * has, stops every program it is preloaded into before main().  Find out
 * the way a Dockerfile's check does: run true under it alone.  For a
 * program (prog, or NULL for the image's own), only when true uses the same
 * loader: a musl program on a glibc system says nothing about the other. */
int hu_cli_library_loads(const char *lib, const char *prog, char *why, size_t len)
{
    static const char *const trues[] = {"/bin/true", "/usr/bin/true"};
    const char *t = NULL;
    for (size_t i = 0; i < sizeof trues / sizeof trues[0] && !t; i++)
        if (access(trues[i], X_OK) == 0)
            t = trues[i];
    why[0] = '\0';
    char ti[256], pi[256];
    if (t && prog && hu_cli_elf_interp(prog, pi, sizeof pi) >= 0 &&
        (hu_cli_elf_interp(t, ti, sizeof ti) < 0 || strcmp(ti, pi) != 0))
        return 0;   /* another loader than the program's */
    int pfd[2];
    if (!t || pipe(pfd) < 0)
        return 0;   /* nothing to try it with: say nothing */
    pid_t pid = start_true(t, lib, pfd);
    close(pfd[1]);
    size_t n = 0;
    ssize_t r;
    while (pid > 0 && n + 1 < len && (r = read(pfd[0], why + n, len - 1 - n)) > 0)
        n += (size_t)r;
    why[n] = '\0';
    close(pfd[0]);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return 0;
    why[strcspn(why, "\n")] = '\0';   /* the loader's first complaint */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !why[0])
        return 0;
    if (!why[0])
        snprintf(why, len, "%s exited with status %d under it", t,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return -1;
}

const char *hu_cli_library_hint(void)
{
#ifdef HU_GLIBC_BASE
    return "this libhostup.so is built for glibc 2.17 or later; a musl image (Alpine) needs "
           "the musl build (README: musl)";
#else
    return "this libhostup.so is built for musl; a glibc image needs the glibc build";
#endif
}
