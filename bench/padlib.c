/* SPDX-License-Identifier: MIT */
/* A control for wall-time comparisons: a preloaded library that wraps
 * nothing and only allocates PAD bytes (default 1000) in its constructor,
 * as any preloaded library that initialises something does.  It moves the
 * program's later heap allocations, and with them the alignment of its
 * buffers, which alone can change the speed of copy-heavy loops.
 * Built by bench/overhead.sh: cc -shared -fPIC. */
#include <stdlib.h>

static void *keep;

__attribute__((constructor)) static void pad_init(void)
{
    const char *s = getenv("PAD");
    keep = malloc(s ? (size_t)atol(s) : 1000);
}
