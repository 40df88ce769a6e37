/* SPDX-License-Identifier: MIT */
/* Clock, waits and randomness shared by every retry loop. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "retry.h"

int hu_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    /* nanosleep returns on a signal after its handler ran, so the program's
     * handlers stay prompt during our waits. */
    return nanosleep(&ts, NULL) == 0 ? 0 : errno;
}

int hu_backoff_wait(unsigned delay_ms, int interruptible)
{
    int64_t wake = hu_now_ms() + delay_ms;
    for (int64_t left = delay_ms; left > 0; left = wake - hu_now_ms()) {
        hu_guard--;     /* the program's handlers may run here, wrapped as usual */
        int w = hu_sleep_ms((unsigned)left);
        hu_guard++;
        if (interruptible && w == EINTR && hu_signal_wants_eintr())
            return EINTR;
    }
    return 0;
}

int hu_signal_wants_eintr(void)
{
    for (int sig = 1; sig < SIGRTMAX; sig++) {
        struct sigaction sa;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &sa) != 0)
            continue;
        if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN && !(sa.sa_flags & SA_RESTART))
            return 1;
    }
    return 0;
}

/* One generator per thread, seeded from time, pid and thread id so that
 * clients started together do not retry in lockstep.  A forked child sees
 * a pid that is not the one recorded and seeds its own (no fork handler:
 * it would copy a page of thread storage on every fork). */
static __thread hu_rng tls_rng __attribute__((tls_model("initial-exec")));
static __thread pid_t tls_rng_pid __attribute__((tls_model("initial-exec")));

hu_rng *hu_thread_rng(void)
{
    pid_t pid = getpid();
    if (tls_rng_pid != pid) {   /* first use, or we are a forked child */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
                        ((uint64_t)pid << 16) ^ (uint64_t)syscall(SYS_gettid) * 0x9e3779b97f4a7c15ull;
        hu_rng_seed(&tls_rng, seed);
        tls_rng_pid = pid;
    }
    return &tls_rng;
}

