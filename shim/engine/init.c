/* SPDX-License-Identifier: MIT */
/* Start-up: loading the policy (once, under the recursion guard so calls
 * the loader makes pass straight through) and the fork handlers of the
 * engine's modules.  Binding the real calls (on first use) is
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
#include "moved.h"
#include "names.h"
#include "retry.h"
#include "sys/real.h"
#include "core/config.h"
#include "core/log.h"
#include "volume.h"
#include "sys/optlibs.h"

hu_policy *hu_policy_loaded;
static hu_policy fallback_policy;   /* if even allocation fails: defaults */
static pthread_once_t policy_once = PTHREAD_ONCE_INIT;

HU_FORK_CODE static void atfork_prepare(void)
{
    hu_vol_atfork_prepare();
    hu_table_lock();
    hu_names_atfork_prepare();
    hu_moved_atfork_prepare();
}
HU_FORK_CODE static void atfork_parent(void)
{
    hu_moved_atfork_release();
    hu_names_atfork_release();
    hu_table_unlock();
    hu_vol_atfork_parent();
}
HU_FORK_CODE static void atfork_child(void)
{
    hu_moved_atfork_release();
    hu_names_atfork_release();
    hu_table_atfork_child();
    hu_vol_atfork_child();
    hu_lookup_atfork_child();
    hu_herd_atfork_child();
}

static void load_policy(void)
{
    int saved = errno;
    hu_guard++;
    int secure = getauxval(AT_SECURE) != 0;
    hu_log_from_env(secure);
    hu_policy *p = hu_policy_from_env(&fallback_policy);
    __atomic_store_n(&hu_policy_loaded, p, __ATOMIC_RELEASE);
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    hu_guard--;
    errno = saved;
}

const hu_policy *hu_policy_load(void)
{
    hu_once(&policy_once, load_policy);
    return hu_policy_loaded;
}

/* Load at start-up when something is configured, so a bad policy is
 * reported at once (and by every process, docs/policy.md) rather than at
 * the first failure.  With nothing configured there is nothing to report:
 * the defaults load at the first call that needs them, and an exec that
 * makes none (a shell's /bin/true) pays nothing.  Wrappers never rely on
 * this having run. */
/* Compared by hand: the constructor binds no libc call (each lazy binding
 * costs the exec ~700 instructions). */
static int has_prefix(const char *s, const char *prefix)
{
    while (*prefix && *s == *prefix)
        s++, prefix++;
    return !*prefix;
}

static int configured(const char *var)
{
    static const char *const vars[] = {HOSTUP_ENV_POLICY "=", HOSTUP_ENV_CONFIG "=",
                                       HOSTUP_ENV_LOG_FORMAT "=", "HOSTUP_LOG_WINDOW="};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (has_prefix(var, vars[i]))
            return 1;
    return 0;
}

__attribute__((constructor)) static void hostup_init(void)
{
    for (char **e = environ; e && *e; e++)
        if (has_prefix(*e, "HOSTUP_") && configured(*e)) {
            hu_policy_get();
            return;
        }
}
