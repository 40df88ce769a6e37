/* SPDX-License-Identifier: MIT */
/* Clock, waits and randomness shared by every retry loop (retry.c). */
#ifndef HOSTUP_ENGINE_RETRY_H
#define HOSTUP_ENGINE_RETRY_H

#include <stdint.h>
#include <time.h>

#include "hostup/backoff.h"
#include "sys/real.h"

/* Monotonic milliseconds; inline: the look-up wrappers read it on their
 * fast path (a retry's deadline counts from the program's call). */
static inline int64_t hu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
/* Sleep; 0 when the time passed, EINTR when a signal handler ran. */
int hu_sleep_ms(unsigned ms) HU_HIDDEN;
/* After EINTR: would a plain blocking call have returned EINTR?  True when
 * some installed handler lacks SA_RESTART. */
int hu_signal_wants_eintr(void) HU_HIDDEN;
/* The backoff wait of every retry loop, called under the guard.  Returns
 * EINTR early when interruptible and a handler without SA_RESTART ran
 * (see hu_signal_wants_eintr); otherwise sleeps the whole delay. */
int hu_backoff_wait(unsigned delay_ms, int interruptible) HU_HIDDEN;
hu_rng *hu_thread_rng(void) HU_HIDDEN;

#endif
