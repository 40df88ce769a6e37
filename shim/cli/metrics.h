/* SPDX-License-Identifier: MIT */
/* hostup metrics (metrics.c): the Prometheus text of the shared state
 * (metrics_render.c), and the HTTP server of --listen (metrics_http.c). */
#ifndef HOSTUP_CLI_METRICS_H
#define HOSTUP_CLI_METRICS_H

#include <stddef.h>

#include "status.h"

/* A growing text buffer; out() drops what does not fit in memory. */
struct hu_buf { char *p; size_t n, cap; };
void hu_buf_printf(struct hu_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The Prometheus text format (version 0.0.4) of every counter into b. */
void hu_metrics_render(struct hu_buf *b, const struct sopts *o, const hu_policy *p);

/* Serve the metrics at http://addr/metrics until killed; the exit status
 * when it cannot start. */
int hu_metrics_serve(const char *addr, const struct sopts *o, const hu_policy *p);

#endif
