/* Symbolic names for errno and getaddrinfo codes, both ways.  Records and
 * policies use names, never numbers, so they read the same on every arch. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <strings.h>

#include "hostup/policy.h"

static const struct { int code; const char *name; } eai_names[] = {
    {EAI_BADFLAGS, "EAI_BADFLAGS"}, {EAI_NONAME, "EAI_NONAME"},
    {EAI_AGAIN, "EAI_AGAIN"},       {EAI_FAIL, "EAI_FAIL"},
    {EAI_NODATA, "EAI_NODATA"},     {EAI_FAMILY, "EAI_FAMILY"},
    {EAI_SOCKTYPE, "EAI_SOCKTYPE"}, {EAI_SERVICE, "EAI_SERVICE"},
    {EAI_ADDRFAMILY, "EAI_ADDRFAMILY"}, {EAI_MEMORY, "EAI_MEMORY"},
    {EAI_SYSTEM, "EAI_SYSTEM"},     {EAI_OVERFLOW, "EAI_OVERFLOW"},
};

const char *hu_errno_name(int err)
{
    const char *n = err > 0 ? strerrorname_np(err) : NULL;
    return n ? n : "EUNKNOWN";
}

const char *hu_eai_name(int eai)
{
    for (size_t i = 0; i < sizeof eai_names / sizeof eai_names[0]; i++)
        if (eai_names[i].code == eai)
            return eai_names[i].name;
    return "EAI_UNKNOWN";
}

/* Names glibc's table does not list because they share a value. */
static const struct { const char *name; int code; } errno_aliases[] = {
    {"EWOULDBLOCK", EWOULDBLOCK}, {"ENOTSUP", ENOTSUP}, {"EDEADLOCK", EDEADLOCK},
};

int hu_errno_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof errno_aliases / sizeof errno_aliases[0]; i++)
        if (strcasecmp(errno_aliases[i].name, name) == 0)
            return errno_aliases[i].code;
    for (int e = 1; e < HU_ERRNO_MAX; e++) {
        const char *n = strerrorname_np(e);
        if (n && strcasecmp(n, name) == 0)
            return e;
    }
    return 0;
}

int hu_eai_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof eai_names / sizeof eai_names[0]; i++)
        if (strcasecmp(eai_names[i].name, name) == 0)
            return eai_names[i].code;
    return 0;
}
