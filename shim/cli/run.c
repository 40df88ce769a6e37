/* SPDX-License-Identifier: MIT */
/* hostup run: CMD with libhostup.so preloaded, after checking that this
 * system's loader can load it at all; or, for static and Go programs (all
 * with --supervise), under the supervisor (shim/supervise/). */
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
#include "supervise/supervise.h"
#include "sys/sysio.h"

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
    if (!path[0] || hu_sys_stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_ISUID | S_ISGID))
        fprintf(stderr, "hostup: warning: %s is setuid/setgid; the loader ignores LD_PRELOAD for it\n", cmd);
    if (hu_cli_elf_interp(path, interp, sizeof interp) == 0)
        fprintf(stderr, "hostup: warning: %s is statically linked; with --preload-only LD_PRELOAD "
                        "cannot reach it\n", cmd);
}

static void run_env(const struct hu_cli_opts *o)
{
    if (o->policy_set)
        setenv(HOSTUP_ENV_POLICY, o->policy, 1);
    if (o->config_set)
        setenv(HOSTUP_ENV_CONFIG, o->config, 1);
    if (o->log)
        setenv(HOSTUP_ENV_LOG, o->log, 1);
}

/* The supervisor's way: static and Go programs, or all with --supervise.
 * A setuid program is never supervised: NO_NEW_PRIVS would drop its
 * privileges.  Returns -1 when the library's way applies instead. */
static int run_supervised(const struct hu_cli_opts *o, char **argv, const char *path)
{
    enum hu_sv_kind kind = hu_sv_program_kind(path);
    if (o->preload_only || (!o->supervise && kind != HU_SV_STATIC && kind != HU_SV_GO))
        return -1;
    struct hu_sv_opts so = {.supervise = 1, .verbose = o->verbose,
                            .why = o->supervise ? "--supervise" : hu_sv_kind_name(kind)};
    struct stat st;
    if (path[0] && hu_sys_stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID))) {
        fprintf(stderr, "hostup: %s is setuid/setgid: not supervised, since the supervisor's "
                        "NO_NEW_PRIVS would drop its privileges; it runs without hostup\n", argv[0]);
        so.supervise = 0;
    }
    return hu_sv_run(argv, &so);
}

/* The library's way: preloaded, and exec'ed in our place (or, as a
 * container's PID 1, started under us so that someone reaps and forwards). */
static int run_preloaded(const struct hu_cli_opts *o, char **argv, const char *path)
{
    char lib[PATH_MAX], why[512];
    if (hu_cli_find_library(lib, sizeof lib) < 0) {
        fprintf(stderr, "hostup: cannot find libhostup.so next to this program "
                        "(expected ../lib/hostup/libhostup.so); set HOSTUP_LIBRARY\n");
        return EX_SOFTWARE;
    }
    if (hu_cli_library_loads(lib, path[0] ? path : NULL, why, sizeof why) < 0) {
        fprintf(stderr, "hostup: %s cannot be loaded in this system: %s\n"
                        "hostup: %s; not starting %s, which would fail before main()\n",
                lib, why, hu_cli_library_hint(), argv[0]);
        return EX_UNAVAILABLE;
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (asprintf(&preload, "%s%s%s", lib, old && *old ? " " : "", old ? old : "") < 0)
        return EX_SOFTWARE;
    setenv("LD_PRELOAD", preload, 1);
    warn_unreachable(argv[0], path);
    if (o->verbose)
        fprintf(stderr, "hostup: %s: libhostup.so preloaded (%s)\n", argv[0],
                hu_sv_kind_name(hu_sv_program_kind(path)));
    if (getpid() == 1) {
        struct hu_sv_opts so = {0};
        return hu_sv_run(argv, &so);
    }
    execvp(argv[0], argv);
    int e = errno;
    fprintf(stderr, "hostup: %s: %s\n", argv[0], strerror(e));
    return e == ENOENT ? 127 : 126;
}

/* The policy CMD would get, checked as check-config checks it: 0 to go
 * on, else EX_CONFIG after the errors.  The library would skip the bad
 * rules and run on; a person who just typed the policy wants to know. */
static int check_policy(const struct hu_cli_opts *o, const char *cmd)
{
    hu_policy *p = hu_cli_load_policy(o);
    size_t bad = p->nerrors;
    if (bad) {
        hu_cli_print_policy_errors(p);
        fprintf(stderr, "hostup: run: not starting %s: the policy has %s; fix it, or give --lenient "
                        "to run with the bad rules skipped, as the library does\n", cmd,
                bad == 1 ? "an error" : "errors");
    }
    hu_policy_free(p);
    return bad ? EX_CONFIG : 0;
}

/* HOSTUP_LOG as CMD will see it: the library refuses fd:1 (records would
 * go into CMD's output) and any fd:N it cannot read, and writes to stderr
 * instead; say so here, once, rather than let it happen silently. */
static void check_log(const char *spec)
{
    if (!spec || strncmp(spec, "fd:", 3) != 0)
        return;
    char *end;
    long fd = strtol(spec + 3, &end, 10);
    if (end == spec + 3 || *end || fd < 0 || fd >= (1L << 30))
        fprintf(stderr, "hostup: run: HOSTUP_LOG=%s is no fd:N with a number N; records go to stderr\n", spec);
    else if (fd == 1)
        fprintf(stderr, "hostup: run: HOSTUP_LOG=fd:1 is refused: records never go into the program's "
                        "output (stdout); they go to stderr\n");
}

int cmd_run(int argc, char **argv)
{
    struct hu_cli_opts o = {.cmd = "run"};
    int i = hu_cli_parse_opts(argc, argv, 2, &o);
    if (i < 0)
        return EX_USAGE;
    if (i >= argc) {
        fprintf(stderr, "hostup: run needs a command: hostup run [--policy P] -- CMD [ARGS]\n");
        return EX_USAGE;
    }
    if (o.supervise && o.preload_only) {
        fprintf(stderr, "hostup: --supervise and --preload-only exclude each other\n");
        return EX_USAGE;
    }
    int rc = o.lenient ? 0 : check_policy(&o, argv[i]);
    if (rc)
        return rc;
    check_log(o.log ? o.log : getenv(HOSTUP_ENV_LOG));
    char path[PATH_MAX];
    resolve_cmd(argv[i], path, sizeof path);
    run_env(&o);
    rc = run_supervised(&o, argv + i, path);
    return rc >= 0 ? rc : run_preloaded(&o, argv + i, path);
}
