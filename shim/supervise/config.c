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

/* as the library's load_policy (engine/init.c) */
static void configure_log(void)
{
    hu_log_configure(getenv(HOSTUP_ENV_LOG), 0);
    const char *fmt = getenv(HOSTUP_ENV_LOG_FORMAT);
    hu_otel_set_service(getenv("OTEL_SERVICE_NAME"));
    if (hu_log_set_format(fmt) < 0) {
        hu_policy_error e = {(char *)HOSTUP_ENV_LOG_FORMAT, 0, 0, 0, (char *)fmt,
                             (char *)"unknown log format: json or otel", "records are written as json"};
        hu_log_config_error(&e);
    }
    const char *win = getenv("HOSTUP_LOG_WINDOW");
    unsigned ms;
    const char *why;
    if (win && strcmp(win, "0") == 0)
        hu_log_set_window(0);
    else if (win && *win && hu_parse_duration(win, &ms, &why) == 0)
        hu_log_set_window(ms);
}

const hu_policy *sv_load_policy(void)
{
    static hu_policy *p, fallback;
    if (p)
        return p;
    configure_log();
    p = hu_policy_from_env(&fallback);
    return p;
}
