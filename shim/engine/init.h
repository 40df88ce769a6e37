/* SPDX-License-Identifier: MIT */
/* Start-up of the library (init.c): the policy in force, loaded once, and
 * the fork handlers of the engine's modules. */
#ifndef HOSTUP_ENGINE_INIT_H
#define HOSTUP_ENGINE_INIT_H

#include "hostup/policy.h"
#include "sys/real.h"

/* The policy in force; loads it (once) on first use. */
const hu_policy *hu_policy_get(void) HU_HIDDEN;

#endif
