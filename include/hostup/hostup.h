/* SPDX-License-Identifier: MIT */
/* hostup: retries and diagnosis for programs that meet a briefly unreachable
 * host.  This header names what the library reads and writes, so tools built
 * on its records (and its own CLI) share one spelling. */
#ifndef HOSTUP_HOSTUP_H
#define HOSTUP_HOSTUP_H

#define HOSTUP_VERSION "0.1.0"

/* Environment read by libhostup.so and the hostup command. */
#define HOSTUP_ENV_POLICY "HOSTUP_POLICY" /* rules, see policy.h */
#define HOSTUP_ENV_CONFIG "HOSTUP_CONFIG" /* JSON file with rules */
#define HOSTUP_ENV_LOG    "HOSTUP_LOG"    /* stderr | off | fd:N | path */
#define HOSTUP_ENV_LOG_FORMAT "HOSTUP_LOG_FORMAT" /* json (default) | otel */

/* Record events (the "event" field). */
#define HOSTUP_EV_RETRY        "retry"
#define HOSTUP_EV_RECOVERED    "recovered"
#define HOSTUP_EV_GAVE_UP      "gave_up"
#define HOSTUP_EV_CONFIG_ERROR "config_error"
#define HOSTUP_EV_READDRESSED  "readdressed"  /* the name moved: tries go to its new address */
#define HOSTUP_EV_LOG_ERROR    "log_error"    /* HOSTUP_LOG failed: stderr from now on */
/* a try skipped because another process probes the target (herd.h) */
#define HOSTUP_EV_PROBE_WAIT   "probe_wait"
/* hostup run could not supervise a static or Go program (no kernel
 * support, seccomp refused): it runs without hostup */
#define HOSTUP_EV_UNSUPERVISED "unsupervised"

#endif
