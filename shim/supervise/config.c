/* SPDX-License-Identifier: MIT */
/* The supervisor's policy and records, from the same environment the
 * library reads (HOSTUP_POLICY, HOSTUP_CONFIG, HOSTUP_LOG, HOSTUP_LOG_FORMAT,
 * HOSTUP_LOG_WINDOW), with the same core code; and what the engine's herd
 * and clock code expect of the process they run in. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "sys/real.h"
#include "hostup/hostup.h"
#include "sv.h"

/* The engine counts its own work here; nothing is wrapped in this
 * process, so it is only a counter. */
__thread int hu_guard __attribute__((tls_model("initial-exec")));

const hu_policy *sv_load_policy(void);

const hu_policy *sv_load_policy(void)
{
    static hu_policy *p, fallback;
    if (p)
        return p;
    hu_log_from_env(0);
    p = hu_policy_from_env(&fallback);
    return p;
}
