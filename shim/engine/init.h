/* SPDX-License-Identifier: MIT */
/* Start-up of the library (init.c): the policy in force, loaded once, and
 * the fork handlers of the engine's modules. */
#ifndef HOSTUP_ENGINE_INIT_H
#define HOSTUP_ENGINE_INIT_H

#include "hostup/policy.h"
#include "sys/real.h"

/* The policy in force; loads it (once) on first use.  Inline: every
 * wrapper's fast path reads it. */
extern hu_policy *hu_policy_loaded HU_HIDDEN;
const hu_policy *hu_policy_load(void) HU_HIDDEN;
static inline const hu_policy *hu_policy_get(void)
{
    const hu_policy *p = __atomic_load_n(&hu_policy_loaded, __ATOMIC_ACQUIRE);
    return HU_LIKELY(p != NULL) ? p : hu_policy_load();
}

#endif
