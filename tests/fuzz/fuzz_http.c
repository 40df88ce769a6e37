/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the request reader of `hostup metrics --listen`
 * (shim/cli/http_request.c).
 *
 * Input: [N] BYTES.  The first byte picks how the bytes arrive: in pieces
 * of 1..N bytes (N = first byte % 64 + 1; pieces vary with the data), the
 * way a slow or hostile client sends them, until the reader says to answer
 * or the bytes run out (then the end of sending).  Properties: the request
 * never grows past its buffer and stays NUL-terminated; a complete head is
 * noticed at the piece that completes it, wherever the piece boundaries
 * fall; the route depends only on the text. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "cli/http_request.h"

static int has_end(const char *t, size_t n)
{
    return memmem(t, n, "\r\n\r\n", 4) || memmem(t, n, "\n\n", 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = data[0] % 64u + 1;
    data++, size--;
    static struct hu_http_request r;
    hu_http_request_init(&r);
    size_t off = 0;
    int done = 0;
    while (!done) {
        size_t room;
        char *at = hu_http_request_space(&r, &room);
        FUZZ_CHECK(at == r.text + r.n && r.n + room == sizeof r.text - 1);
        size_t k = size - off;
        size_t piece = step > 1 && off < size ? 1 + data[off] % step : step;
        if (k > piece)
            k = piece;
        if (k > room)
            k = room;
        memcpy(at, data + off, k);
        off += k;
        size_t before = r.n;
        done = hu_http_request_add(&r, k);
        FUZZ_CHECK(r.n == before + k && r.n < sizeof r.text && r.text[r.n] == '\0');
        /* done exactly when: the end of sending, a full buffer, or the head's end */
        int want = k == 0 || r.n + 1 >= sizeof r.text || has_end(r.text, r.n);
        FUZZ_CHECK(done == want);
    }
    int m = hu_http_request_wants_metrics(&r);
    FUZZ_CHECK(m == (r.n >= 13 && (memcmp(r.text, "GET /metrics ", 13) == 0 ||
                                   memcmp(r.text, "GET /metrics?", 13) == 0)));
    return 0;
}
