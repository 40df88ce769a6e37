/* SPDX-License-Identifier: MIT */
/* libhu_dlopen_opener.so: a library that opens libhu_dlopen_leaf.so by
 * name, found through its own DT_RUNPATH ($ORIGIN/dlopen_leaf), as plugin
 * hosts do.  glibc searches the RUNPATH of the object that called dlopen:
 * a dlopen wrapper that is not a tail call would make libhostup that
 * object, and this would fail (tests/tools/hu_dlopen.c, mode lib). */
#include <dlfcn.h>

void *open_leaf(int mode)
{
    return dlopen("libhu_dlopen_leaf.so", mode);
}
