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

/* The records' destination (HOSTUP_LOG; secure: the way AT_SECURE allows),
 * format (HOSTUP_LOG_FORMAT, OTEL_SERVICE_NAME) and folding window
 * (HOSTUP_LOG_WINDOW), each bad value written as a config_error. */
void hu_log_from_env(int secure);

#endif
