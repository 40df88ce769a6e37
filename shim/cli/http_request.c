/* SPDX-License-Identifier: MIT */
/* The request reader of `hostup metrics --listen` (http_request.h).  The
 * buffer always ends in a NUL, a request may come a byte at a time, and
 * anything that is not GET /metrics gets the 404. */
#define _GNU_SOURCE
#include <string.h>

#include "http_request.h"

void hu_http_request_init(struct hu_http_request *r)
{
    r->n = 0;
    r->text[0] = '\0';
}

char *hu_http_request_space(struct hu_http_request *r, size_t *room)
{
    *room = sizeof r->text - 1 - r->n;
    return r->text + r->n;
}

int hu_http_request_add(struct hu_http_request *r, size_t k)
{
    if (k > sizeof r->text - 1 - r->n)     /* more than the space: a caller's bug, kept safe */
        k = sizeof r->text - 1 - r->n;
    /* the head's end may straddle two reads: look from 3 bytes back */
    size_t from = r->n > 3 ? r->n - 3 : 0;
    r->n += k;
    r->text[r->n] = '\0';
    if (k == 0 || r->n + 1 >= sizeof r->text)
        return 1;
    /* a NUL in the request ends strstr early: search the bytes themselves */
    const char *t = r->text + from;
    size_t len = r->n - from;
    return memmem(t, len, "\r\n\r\n", 4) != NULL || memmem(t, len, "\n\n", 2) != NULL;
}

int hu_http_request_wants_metrics(const struct hu_http_request *r)
{
    return strncmp(r->text, "GET /metrics ", 13) == 0 || strncmp(r->text, "GET /metrics?", 13) == 0;
}
