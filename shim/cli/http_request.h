/* SPDX-License-Identifier: MIT */
/* The request reader of `hostup metrics --listen` (http_request.c): bytes
 * as they arrive, whether the request is complete, and what it asks for.
 * Kept apart from the server's sockets so tests/fuzz/fuzz_http.c can feed
 * it any bytes in any pieces. */
#ifndef HOSTUP_CLI_HTTP_REQUEST_H
#define HOSTUP_CLI_HTTP_REQUEST_H

#include <stddef.h>

#define HU_HTTP_REQUEST_MAX 2048

struct hu_http_request {
    size_t n;                           /* bytes read, text[n] == '\0' */
    char text[HU_HTTP_REQUEST_MAX];
};

void hu_http_request_init(struct hu_http_request *r);
/* Where the next read goes; *room > 0 while the request may grow. */
char *hu_http_request_space(struct hu_http_request *r, size_t *room);
/* k bytes were read into the space (0: the client's end of sending).
 * 1: answer now (the head's end, a full buffer or the end of sending). */
int hu_http_request_add(struct hu_http_request *r, size_t k);
/* 1: GET /metrics (with or without a query), 0: anything else. */
int hu_http_request_wants_metrics(const struct hu_http_request *r);

#endif
