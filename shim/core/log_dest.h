/* SPDX-License-Identifier: MIT */
/* The destination of records (HOSTUP_LOG) and the one write of a record
 * line there: never blocking, never into a descriptor that is no longer
 * the one chosen (log_dest.c). */
#ifndef HOSTUP_LOG_DEST_H
#define HOSTUP_LOG_DEST_H

#include <stddef.h>

/* What failed when the chosen destination could not take a record. */
typedef struct hu_log_failure {
    char dest[300];         /* the path, or fd:N */
    int err;                /* errno */
    const char *reason;     /* NULL, or why the destination was refused */
} hu_log_failure;

enum { HU_LOG_DROPPED = -1, HU_LOG_FAILED = 1 };
/* Write one record line.  0: written.  HU_LOG_DROPPED: not written (full,
 * no reader, or the descriptor is no longer the program's stderr or fd:N
 * of when the log was chosen), counted.  HU_LOG_FAILED: the HOSTUP_LOG
 * path or fd:N failed, *f says how (f->dest empty: another thread already
 * said it); records go to stderr from now on: write again.
 * errno is preserved. */
int hu_log_write(const char *line, size_t n, hu_log_failure *f);
/* Records dropped and not yet reported; hu_log_settle(n) once a record
 * carrying "dropped": n was written. */
unsigned long hu_log_dropped(void);
void hu_log_settle(unsigned long n);

#endif
