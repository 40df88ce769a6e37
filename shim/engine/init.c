/* Start-up: loading the policy (once, under the recursion guard so calls
 * the loader makes pass straight through) and the fork handlers of the
 * engine's modules.  Binding the real calls, the stage before, is
 * sys/real.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "hostup/hostup.h"
#include "fdtable.h"
#include "herd.h"
#include "init.h"
#include "lookup.h"
#include "names.h"
#include "retry.h"
#include "sys/real.h"
#include "core/log.h"
#include "volume.h"

static hu_policy *policy;
static hu_policy fallback_policy;   /* if even allocation fails: defaults */
static pthread_once_t policy_once = PTHREAD_ONCE_INIT;

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
