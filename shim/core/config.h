/* SPDX-License-Identifier: MIT */
/* The policy in force, from the environment: HOSTUP_POLICY's rules, then
 * HOSTUP_CONFIG's (read within its bound), their errors written as
 * config_error records.  The library's start and the supervisor share it. */
#ifndef HOSTUP_CORE_CONFIG_H
#define HOSTUP_CORE_CONFIG_H

#include "hostup/policy.h"

/* The parsed policy, or *fallback set to the defaults when even the
 * allocation failed.  HOSTUP_CONFIG is ignored under AT_SECURE. */
hu_policy *hu_policy_from_env(hu_policy *fallback);

#endif
