/* SPDX-License-Identifier: MIT */
/* hu_dlopen: dlopen as the loader sees it, for test_deepbind.sh.  Built
 * with DT_RUNPATH $ORIGIN/dlopen_leaf, where libhu_dlopen_leaf.so is the
 * only copy of that library.
 *
 *   hu_dlopen exe [deepbind]   open the leaf by name from this program
 *                              (its RUNPATH finds it): "exe: leaf"
 *   hu_dlopen lib [deepbind]   open libhu_dlopen_opener.so (next to this
 *                              program), whose open_leaf() opens the leaf
 *                              by name through the opener's own RUNPATH
 *   hu_dlopen missing          a library that is nowhere: NULL, dlerror()
 *                              and errno, printed as they are
 *   hu_dlopen connect IP PORT  open the leaf with RTLD_DEEPBIND and let it
 *                              connect(): "connected" or "error N"
 * Exit 0 when the library opened (or, for missing, did not), else 1. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEAF "libhu_dlopen_leaf.so"

static int call_leaf(const char *how, void *h)
{
    if (!h) {
        printf("%s: dlopen failed: %s\n", how, dlerror());
        return 1;
    }
    const char *(*name)(void) = (const char *(*)(void))dlsym(h, "leaf_name");
    printf("%s: %s\n", how, name ? name() : "no leaf_name");
    return name ? 0 : 1;
}

/* the opener, by its full path: the directory of /proc/self/exe */
static void *open_opener(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 40);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    strcpy(strrchr(self, '/') + 1, "libhu_dlopen_opener.so");
    return dlopen(self, RTLD_NOW);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int deep = argc > 2 && strcmp(argv[2], "deepbind") == 0 ? RTLD_DEEPBIND : 0;
    if (strcmp(argv[1], "exe") == 0)
        return call_leaf("exe", dlopen(LEAF, RTLD_NOW | deep));
    if (strcmp(argv[1], "lib") == 0) {
        void *op = open_opener();
        void *(*open_leaf)(int) = op ? (void *(*)(int))dlsym(op, "open_leaf") : NULL;
        if (!open_leaf) {
            printf("lib: no opener: %s\n", dlerror());
            return 1;
        }
        return call_leaf("lib", open_leaf(RTLD_NOW | deep));
    }
    if (strcmp(argv[1], "missing") == 0) {
        errno = 0;
        void *h = dlopen("libhu_no_such_library.so", RTLD_NOW);
        int err = errno;
        const char *msg = dlerror();
        char text[512];
        snprintf(text, sizeof text, "%s", msg ? msg : "(none)");
        const char *again = dlerror();
        printf("missing: %s; dlerror: %s; errno %d; dlerror again: %s\n", h ? "opened" : "NULL", text,
               err, again ? "set" : "(none)");
        return h ? 1 : 0;
    }
    if (strcmp(argv[1], "connect") == 0 && argc == 4) {
        void *h = dlopen(LEAF, RTLD_NOW | RTLD_DEEPBIND);
        int (*conn)(const char *, int) = h ? (int (*)(const char *, int))dlsym(h, "leaf_connect") : NULL;
        if (!conn) {
            printf("connect: %s\n", dlerror());
            return 1;
        }
        int err = conn(argv[2], atoi(argv[3]));
        if (err)
            printf("error %d\n", err);
        else
            printf("connected\n");
        return err != 0;
    }
    return 2;
}
