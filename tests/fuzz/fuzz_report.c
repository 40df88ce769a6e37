/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: `hostup report`'s line reader (shim/cli/report_read.c)
 * and the summary it feeds (report_stats.c).
 *
 * Input: a log as `hostup report` reads it: plain records, OTel lines,
 * docker json-file entries (parts of cut lines joined per stream), `docker
 * logs --timestamps` prefixes and the program's own lines, mixed.  The
 * whole input is read from memory, the summary finished and freed.
 * Properties beyond "no crash, no leak": no more lines skipped than there
 * are, the targets sorted most failures first, and each target's counts
 * consistent (gave_up within its records, within all records). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"
#include "cli/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;   /* size 0: glibc refuses an empty buffer */
    struct summary S = {0};
    FUZZ_CHECK(rep_read_records(&S, in) == 0);
    fclose(in);
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    FUZZ_CHECK(S.skipped <= lines);
    struct target **sorted = NULL;
    rep_finish(&S, &sorted);
    for (size_t i = 1; i < S.nt; i++)
        FUZZ_CHECK(rep_failures(sorted[i - 1]) >= rep_failures(sorted[i]));
    for (size_t i = 0; i < S.nt; i++) {     /* retries count folded ones too: not bounded by records */
        FUZZ_CHECK(sorted[i]->gave_up <= sorted[i]->records && sorted[i]->records <= S.records);
        FUZZ_CHECK(sorted[i]->n_ms <= sorted[i]->recovered);
    }
    free(sorted);
    rep_free_summary(&S);
    return 0;
}
