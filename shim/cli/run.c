/* hostup run: CMD with libhostup.so preloaded, after checking that this
 * system's loader can load it at all. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostup/hostup.h"
#include "cli.h"
#include "common.h"
#include "library.h"
#include "sys/rawstat.h"

/* CMD as execvp would find it, in path; "" if not found. */
static void resolve_cmd(const char *cmd, char *path, size_t len)
{
    if (strchr(cmd, '/')) {
        snprintf(path, len, "%s", cmd);
        return;
    }
    const char *p = getenv("PATH");
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", p ? p : "/usr/bin:/bin");
    path[0] = '\0';
    for (char *save = NULL, *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(path, len, "%s/%s", d, cmd);
        if (access(path, X_OK) == 0)
            return;
        path[0] = '\0';
    }
}

/* Warn about programs a preload cannot reach (static, setuid). */
static void warn_unreachable(const char *cmd, const char *path)
{
    struct stat st;
    char interp[256];
    if (!path[0] || hu_raw_stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_ISUID | S_ISGID))
        fprintf(stderr, "hostup: warning: %s is setuid/setgid; the loader ignores LD_PRELOAD for it\n", cmd);
    if (hu_cli_elf_interp(path, interp, sizeof interp) == 0)
        fprintf(stderr, "hostup: warning: %s is statically linked (a Go binary?); LD_PRELOAD cannot reach it\n", cmd);
}

int cmd_run(int argc, char **argv)
{
    struct hu_cli_opts o = {0};
    int i = hu_cli_parse_opts(argc, argv, 2, &o);
    if (i < 0)
        return EX_USAGE;
    if (i >= argc) {
        fprintf(stderr, "hostup: run needs a command: hostup run [--policy P] -- CMD [ARGS]\n");
        return EX_USAGE;
    }
    char lib[PATH_MAX];
    if (hu_cli_find_library(lib, sizeof lib) < 0) {
        fprintf(stderr, "hostup: cannot find libhostup.so next to this program "
                        "(expected ../lib/hostup/libhostup.so); set HOSTUP_LIBRARY\n");
        return EX_SOFTWARE;
    }
    char why[512], path[PATH_MAX];
    resolve_cmd(argv[i], path, sizeof path);
    if (hu_cli_library_loads(lib, path[0] ? path : NULL, why, sizeof why) < 0) {
        fprintf(stderr, "hostup: %s cannot be loaded in this system: %s\n"
                        "hostup: %s; not starting %s, which would fail before main()\n",
                lib, why, hu_cli_library_hint(), argv[i]);
        return EX_UNAVAILABLE;
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (asprintf(&preload, "%s%s%s", lib, old && *old ? " " : "", old ? old : "") < 0)
        return EX_SOFTWARE;
    setenv("LD_PRELOAD", preload, 1);
    if (o.policy_set)
        setenv(HOSTUP_ENV_POLICY, o.policy, 1);
    if (o.config_set)
        setenv(HOSTUP_ENV_CONFIG, o.config, 1);
    if (o.log)
        setenv(HOSTUP_ENV_LOG, o.log, 1);
    warn_unreachable(argv[i], path);
    execvp(argv[i], argv + i);
    int e = errno;
    fprintf(stderr, "hostup: %s: %s\n", argv[i], strerror(e));
    return e == ENOENT ? 127 : 126;
}
