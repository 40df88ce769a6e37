/* SPDX-License-Identifier: MIT */
/* Memory for hostup report (report.h): allocation that ends the command
 * with a message instead of failing, growable arrays and byte buffers. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

_Noreturn void oom(void)
{
    fputs("hostup: report: out of memory\n", stderr);
    exit(EX_SOFTWARE);
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

void grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *arr = xrealloc(*arr, c * size);
    *cap = c;
}

void buf_add(struct buf *b, const char *s, size_t n)
{
    if (n >= SIZE_MAX - b->len)
        oom();
    grow((void **)&b->p, &b->cap, b->len + n + 1, 1);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }
