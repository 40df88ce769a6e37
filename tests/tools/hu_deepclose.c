/* SPDX-License-Identifier: MIT */
/* A library that closes a descriptor from inside itself.  hu_identity
 * loads it with RTLD_DEEPBIND, so its close() binds to libc's own and a
 * preloaded library never sees that close (test_identity.sh sets
 * HOSTUP_DEEPBIND=keep, else hostup's dlopen drops the flag).  Shared
 * object. */
#include <unistd.h>

int hu_deep_close(int fd)
{
    return close(fd);
}
