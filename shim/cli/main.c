/* hostup: the command.  Runs programs under libhostup.so, and explains and
 * validates policies with the very parser the library uses. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostup/hostup.h"
#include "hostup/policy.h"
#include <jansson.h>

#include "cli.h"
#include "sys/sysio.h"

int hu_cli_colour(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    return !(nc && *nc) && isatty(fileno(f));
}

const char *hu_cli_paint(FILE *f, const char *code)
{
    return hu_cli_colour(f) ? code : "";
}

static void usage(FILE *out)
{
    fputs("usage: hostup COMMAND [ARGS]\n"
          "\n"
          "commands:\n"
          "  run [--policy P] [--config FILE] [--log DEST] -- CMD [ARGS]\n"
          "                      run CMD with libhostup.so preloaded\n"
          "  policy [--json] [--policy P] [--config FILE] TARGET\n"
          "                      show the rule that matches TARGET (host[:port],\n"
          "                      address[:port] or /path) and its effective values\n"
          "  check-config [--json] [--policy P] [--config FILE]\n"
          "                      validate HOSTUP_POLICY and HOSTUP_CONFIG; exit 1 on errors\n"
          "  doctor [--json] TARGET\n"
          "                      run the troubleshooting checklist against host[:port],\n"
          "                      a URL or a path, from here\n"
          "  report [--json] [FILE|-]\n"
          "                      summarise hostup records per target\n"
          "  status [--json] [--watch [SECONDS]] [--file PATH]\n"
          "                      targets in the shared state: ok, failing or probing,\n"
          "                      the prober, waiting processes, tries, budget left\n"
          "  metrics [--listen ADDR:PORT] [--textfile PATH] [--file PATH]\n"
          "                      the same counters in the Prometheus text format\n"
          "  version             print the version\n"
          "\n"
          "Without --policy/--config the environment's HOSTUP_POLICY and HOSTUP_CONFIG\n"
          "are used, as the library would.\n", out);
}

/* --policy/--config/--log shared by the subcommands; returns the index of
 * the first other argument, or -1 after printing an error. */
struct opts { const char *policy, *config, *log; int policy_set, config_set, json; };

static int parse_opts(int argc, char **argv, int i, struct opts *o)
{
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--") == 0)
            return i + 1;
        if (strcmp(a, "--policy") == 0) {
            slot = &o->policy;
            o->policy_set = 1;
        } else if (strcmp(a, "--config") == 0) {
            slot = &o->config;
            o->config_set = 1;
        } else if (strcmp(a, "--log") == 0)
            slot = &o->log;
        else if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "hostup: unknown option '%s'\n", a);
            return -1;
        } else
            return i;
        if (++i >= argc) {
            fprintf(stderr, "hostup: %s needs a value\n", a);
            return -1;
        }
        *slot = argv[i];
    }
    return i;
}

static hu_policy *load(const struct opts *o)
{
    const char *text = o->policy_set ? o->policy : getenv(HOSTUP_ENV_POLICY);
    const char *cfg = o->config_set ? o->config : getenv(HOSTUP_ENV_CONFIG);
    hu_policy *p = hu_policy_parse(text);
    if (p && cfg && *cfg)
        hu_policy_add_json_file(p, cfg);
    if (!p) {
        fprintf(stderr, "hostup: out of memory\n");
        exit(EX_SOFTWARE);
    }
    return p;
}

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

/* The ELF interpreter of path (its libc's loader) into interp: 1 if it has
 * one, 0 if it is a static ELF program, -1 if it is no 64-bit ELF file. */
static int elf_interp(const char *path, char *interp, size_t len)
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

/* Warn about programs a preload cannot reach (static, setuid). */
static void warn_unreachable(const char *cmd, const char *path)
{
    struct stat st;
    char interp[256];
    if (!path[0] || hu_sys_stat(path, &st) != 0)
        return;
    if (st.st_mode & (S_ISUID | S_ISGID))
        fprintf(stderr, "hostup: warning: %s is setuid/setgid; the loader ignores LD_PRELOAD for it\n", cmd);
    if (elf_interp(path, interp, sizeof interp) == 0)
        fprintf(stderr, "hostup: warning: %s is statically linked (a Go binary?); LD_PRELOAD cannot reach it\n", cmd);
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
    if (t && prog && elf_interp(prog, pi, sizeof pi) >= 0 &&
        (elf_interp(t, ti, sizeof ti) < 0 || strcmp(ti, pi) != 0))
        return 0;   /* another loader than the program's */
    int pfd[2];
    if (!t || pipe(pfd) < 0)
        return 0;   /* nothing to try it with: say nothing */
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        setenv("LD_PRELOAD", lib, 1);
        setenv(HOSTUP_ENV_LOG, "off", 1);
        execl(t, t, (char *)NULL);
        _exit(127);
    }
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

static int cmd_run(int argc, char **argv)
{
    struct opts o = {0};
    int i = parse_opts(argc, argv, 2, &o);
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

static void print_errors(const hu_policy *p)
{
    for (size_t i = 0; i < p->nerrors; i++) {
        const hu_policy_error *e = &p->errors[i];
        fprintf(stderr, "%s", e->source);
        if (e->line)
            fprintf(stderr, ":%d:%d", e->line, e->column);
        if (e->rule)
            fprintf(stderr, ": rule %d", e->rule);
        if (e->column && !e->line)
            fprintf(stderr, ", column %d", e->column);
        fprintf(stderr, ": %s", e->reason);
        if (e->text && *e->text)
            fprintf(stderr, " (in \"%s\")", e->text);
        fputc('\n', stderr);
    }
    if (p->nerrors_more)
        fprintf(stderr, "... and %zu more errors (at most %d are shown)\n", p->nerrors_more,
                HU_MAX_ERRORS);
}

static int cmd_check_config(int argc, char **argv)
{
    struct opts o = {0};
    int i = parse_opts(argc, argv, 2, &o);
    if (i < 0)
        return EX_USAGE;
    if (i < argc) {
        fprintf(stderr, "hostup: check-config takes no arguments\n");
        return EX_USAGE;
    }
    hu_policy *p = load(&o);
    int bad = p->nerrors != 0;     /* nerrors_more is never set without it */
    if (o.json) {
        json_t *errs = json_array();
        for (size_t k = 0; k < p->nerrors; k++) {
            const hu_policy_error *e = &p->errors[k];
            json_array_append_new(errs, json_pack("{s:s, s:i, s:i, s:i, s:s, s:s}", "source", e->source,
                                                  "rule", e->rule, "line", e->line, "column", e->column,
                                                  "text", e->text ? e->text : "", "reason", e->reason));
        }
        json_t *out = json_pack("{s:b, s:i, s:o, s:i}", "ok", !bad, "rules", (int)p->nrules,
                                "errors", errs, "more_errors", (int)p->nerrors_more);
        char *str = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(str ? str : "{}");
        free(str);
        json_decref(out);
    } else {
        print_errors(p);
        if (!bad)
            printf("ok: %zu rule%s\n", p->nrules, p->nrules == 1 ? "" : "s");
    }
    hu_policy_free(p);
    return bad ? 1 : 0;
}

static int cmd_policy(int argc, char **argv)
{
    struct opts o = {0};
    int i = parse_opts(argc, argv, 2, &o);
    if (i < 0)
        return EX_USAGE;
    if (i + 1 != argc) {
        fprintf(stderr, "hostup: policy needs one TARGET: host[:port], address[:port] or /path\n");
        return EX_USAGE;
    }
    const char *target = argv[i];
    hu_policy *p = load(&o);
    print_errors(p);
    const hu_rule *r;
    if (target[0] == '/') {
        r = hu_policy_match_path(p, target);
        if (!r)
            r = &p->defaults;
    } else {
        hu_selector sel;
        const char *why;
        if (hu_parse_selector(target, &sel, &why) < 0 || sel.kind == HU_SEL_CIDR ||
            sel.port_lo != sel.port_hi) {
            fprintf(stderr, "hostup: %s: %s\n", target, sel.kind == HU_SEL_CIDR ? "give one address, not a CIDR" : why);
            hu_policy_free(p);
            return EX_USAGE;
        }
        struct sockaddr_storage ss = {0};
        const struct sockaddr *sa = NULL;
        if (sel.kind == HU_SEL_ADDR) {
            ss.ss_family = (sa_family_t)sel.family;
            if (sel.family == AF_INET)
                memcpy(&((struct sockaddr_in *)&ss)->sin_addr, sel.addr, 4);
            else
                memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, sel.addr, 16);
            sa = (struct sockaddr *)&ss;
        }
        r = hu_policy_match(p, sel.kind == HU_SEL_HOST ? sel.pattern : NULL, sa, sel.port_lo);
        free(sel.pattern);
    }
    char desc[1024];
    hu_rule_describe(r, desc, sizeof desc);
    if (o.json) {
        json_t *vals = json_object();
        /* the description is key=value pairs: reuse it rather than restate it */
        char copy[1024];
        snprintf(copy, sizeof copy, "%s", desc);
        for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
            char *eq = strchr(t, '=');
            if (eq) {
                *eq = '\0';
                json_object_set_new(vals, t, json_string(eq + 1));
            } else
                json_object_set_new(vals, t, json_true());
        }
        json_t *out = json_pack("{s:s, s:s?, s:i, s:s, s:o}", "target", target,
                                "source", r->number ? (r->from_config ? HOSTUP_ENV_CONFIG : HOSTUP_ENV_POLICY) : NULL,
                                "rule_number", r->number, "rule", r->text, "values", vals);
        char *str = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(str ? str : "{}");
        free(str);
        json_decref(out);
        hu_policy_free(p);
        return 0;
    }
    if (r->number)
        printf("%s: %s rule %d: %s\n", target, r->from_config ? HOSTUP_ENV_CONFIG : HOSTUP_ENV_POLICY,
               r->number, r->text);
    else
        printf("%s: no rule matches; the defaults apply\n", target);
    printf("  %s\n", desc);
    hu_policy_free(p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EX_USAGE;
    }
    const char *c = argv[1];
    if (strcmp(c, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(c, "policy") == 0)
        return cmd_policy(argc, argv);
    if (strcmp(c, "check-config") == 0)
        return cmd_check_config(argc, argv);
    if (strcmp(c, "doctor") == 0)
        return cmd_doctor(argc, argv);
    if (strcmp(c, "report") == 0)
        return cmd_report(argc, argv);
    if (strcmp(c, "status") == 0)
        return cmd_status(argc, argv);
    if (strcmp(c, "metrics") == 0)
        return cmd_metrics(argc, argv);
    if (strcmp(c, "version") == 0 || strcmp(c, "--version") == 0) {
        printf("hostup %s\n", HOSTUP_VERSION);
        return 0;
    }
    if (strcmp(c, "help") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "hostup: unknown command '%s'\n", c);
    usage(stderr);
    return EX_USAGE;
}
