/* Lazy initialisation, symbol binding and fork handling.
 *
 * Two stages: binding the real functions (dlsym only, safe to repeat, done
 * by the first wrapper call on any thread) and loading the policy (once,
 * under the recursion guard so calls the loader makes pass straight
 * through). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "hostup/hostup.h"
#include "fdtable.h"
#include "herd.h"
#include "hu.h"
#include "core/log.h"
#include "volume.h"

struct hu_real hu_real;
int hu_bound;
__thread int hu_guard __attribute__((tls_model("initial-exec")));

static hu_policy *policy;
static hu_policy fallback_policy;   /* if even allocation fails: defaults */
static pthread_once_t policy_once = PTHREAD_ONCE_INIT;

#define BIND(name) *(void **)&hu_real.name = dlsym(RTLD_NEXT, #name)

void hu_bind(void)
{
    int saved = errno;
    hu_guard++;
    BIND(connect);
    BIND(getaddrinfo);
    BIND(gethostbyname);
    BIND(gethostbyname2);
    BIND(gethostbyname_r);
    BIND(gethostbyname2_r);
    BIND(poll);
    BIND(ppoll);
    BIND(select);
    BIND(pselect);
    BIND(epoll_ctl);
    BIND(epoll_wait);
    BIND(epoll_pwait);
    BIND(epoll_pwait2);
    BIND(close);
    BIND(dup);
    BIND(dup2);
    BIND(dup3);
    BIND(fcntl);
    BIND(fcntl64);
    BIND(getsockopt);
    BIND(open);
    BIND(open64);
    BIND(__open);
    BIND(__open64);
    BIND(openat);
    BIND(openat64);
    BIND(creat);
    BIND(creat64);
    BIND(__open_2);
    BIND(__open64_2);
    BIND(__openat_2);
    BIND(__openat64_2);
    BIND(fopen);
    BIND(fopen64);
    BIND(freopen);
    BIND(freopen64);
    BIND(fclose);
    BIND(stat);
    BIND(stat64);
    BIND(lstat);
    BIND(lstat64);
    BIND(fstatat);
    BIND(fstatat64);
    BIND(statx);
    BIND(__xstat);
    BIND(__xstat64);
    BIND(__lxstat);
    BIND(__lxstat64);
    BIND(__fxstatat);
    BIND(__fxstatat64);
    BIND(read);
    BIND(pread);
    BIND(pread64);
    BIND(readv);
    BIND(preadv);
    BIND(preadv64);
    BIND(preadv2);
    BIND(preadv64v2);
    BIND(__read_chk);
    BIND(__pread_chk);
    BIND(__pread64_chk);
    BIND(fread);
    BIND(fread_unlocked);
    BIND(__fread_chk);
    BIND(__fread_unlocked_chk);
    BIND(fgets);
    BIND(fgets_unlocked);
    BIND(__fgets_chk);
    BIND(__fgets_unlocked_chk);
    BIND(getline);
    BIND(getdelim);
    BIND(__getdelim);
    BIND(fgetc);
    BIND(getc);
    BIND(_IO_getc);
    BIND(fgetc_unlocked);
    BIND(getc_unlocked);
    BIND(getchar);
    BIND(getchar_unlocked);
    hu_real.stdin_ref = dlsym(RTLD_DEFAULT, "stdin");
    BIND(__uflow);
    BIND(__underflow);
#ifdef HU_MUSL
    /* musl: an LFS64 name is the plain call under another name, and a musl
     * may not export it at all (see musl_compat.h) */
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
#endif
    __atomic_store_n(&hu_bound, 1, __ATOMIC_RELEASE);
    hu_guard--;
    errno = saved;
}

static void atfork_prepare(void)
{
    hu_vol_atfork_prepare();
    hu_table_lock();
    hu_names_atfork_prepare();
}
static void atfork_parent(void)
{
    hu_names_atfork_release();
    hu_table_unlock();
    hu_vol_atfork_parent();
}
static void atfork_child(void)
{
    hu_names_atfork_release();
    hu_table_atfork_child();
    hu_vol_atfork_child();
    hu_retry_atfork_child();
    hu_lookup_atfork_child();
    hu_herd_atfork_child();
}

/* HOSTUP_LOG_FORMAT, first: the other config errors come in that format */
static void set_log_format(void)
{
    const char *fmt = getenv(HOSTUP_ENV_LOG_FORMAT);
    hu_otel_set_service(getenv("OTEL_SERVICE_NAME"));
    if (hu_log_set_format(fmt) < 0) {
        hu_policy_error e = {(char *)HOSTUP_ENV_LOG_FORMAT, 0, 0, 0, (char *)fmt,
                             (char *)"unknown log format: json or otel", "records are written as json"};
        hu_log_config_error(&e);
    }
}

static void load_policy(void)
{
    int saved = errno;
    hu_guard++;
    int secure = getauxval(AT_SECURE) != 0;
    hu_log_configure(getenv(HOSTUP_ENV_LOG), secure);
    set_log_format();
    const char *win = getenv("HOSTUP_LOG_WINDOW");
    unsigned win_ms;
    const char *why;
    if (win && *win) {
        if (strcmp(win, "0") == 0)     /* README: 0 turns folding off */
            hu_log_set_window(0);
        else if (hu_parse_duration(win, &win_ms, &why) == 0)
            hu_log_set_window(win_ms);
        else {
            hu_policy_error e = {(char *)"HOSTUP_LOG_WINDOW", 0, 0, 0, (char *)win, (char *)why,
                                 "the default window (1s) applies"};
            hu_log_config_error(&e);
        }
    }
    hu_policy *p = hu_policy_parse(getenv(HOSTUP_ENV_POLICY));
    /* HOSTUP_POLICY rules come first, so they win over the file's. */
    const char *cfg = secure_getenv(HOSTUP_ENV_CONFIG);
    if (p && cfg && *cfg)
        hu_policy_add_json_file(p, cfg);
    if (p)
        hu_log_config_errors(p);
    if (!p) {
        hu_rule_defaults(&fallback_policy.defaults);
        hu_policy_finish(&fallback_policy);
        p = &fallback_policy;
    }
    __atomic_store_n(&policy, p, __ATOMIC_RELEASE);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    hu_guard--;
    errno = saved;
}

const hu_policy *hu_policy_get(void)
{
    hu_policy *p = __atomic_load_n(&policy, __ATOMIC_ACQUIRE);
    if (HU_LIKELY(p != NULL))
        return p;
    pthread_once(&policy_once, load_policy);
    return policy;
}

/* Load at start-up too, so a bad policy is reported at once rather than at
 * the first failure.  Wrappers never rely on this having run. */
__attribute__((constructor)) static void hostup_init(void)
{
    hu_ensure_bound();
    hu_policy_get();
}
