/* libFuzzer harness: `hostup report`'s line reader (shim/cli/report_read.c)
 * and the summary it feeds (report_stats.c).
 *
 * Input: a log as `hostup report` reads it: plain records, OTel lines,
 * docker json-file entries (parts of cut lines joined per stream), `docker
 * logs --timestamps` prefixes and the program's own lines, mixed.  The
 * whole input is read from memory, the summary finished and freed.
 * Properties beyond "no crash, no leak": the line count adds up (every
 * record or skipped line is counted at most once per input line, plus the
 * records of OTel batches), and the sorted targets are sorted. */
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
    for (size_t i = 0; i < S.nt; i++)
        FUZZ_CHECK(sorted[i]->records >= rep_failures(sorted[i]) || sorted[i]->records == COUNT_MAX);
    free(sorted);
    rep_free_summary(&S);
    return 0;
}
