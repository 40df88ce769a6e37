/* A library that closes a descriptor from inside itself.  hu_identity
 * loads it with RTLD_DEEPBIND, so its close() binds to libc's own and a
 * preloaded library never sees that close.  Shared object. */
#include <unistd.h>

int hu_deep_close(int fd)
{
    return close(fd);
}
