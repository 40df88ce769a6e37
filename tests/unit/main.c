/* SPDX-License-Identifier: MIT */
/* Unit test runner: every suite in one SRunner.  CK_FORK is honoured as
 * usual (CK_FORK=no runs in one process, handy under a debugger). */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
    SRunner *sr = srunner_create(policy_suite());
    srunner_add_suite(sr, parse_suite());
    srunner_add_suite(sr, backoff_suite());
    srunner_add_suite(sr, match_suite());
    srunner_add_suite(sr, record_suite());
    srunner_add_suite(sr, mounts_suite());
    srunner_add_suite(sr, env_suite());
    srunner_add_suite(sr, regress_suite());
    srunner_add_suite(sr, shared_suite());
    srunner_add_suite(sr, otel_suite());
    srunner_add_suite(sr, limits_suite());
    srunner_add_suite(sr, decide_suite());
    srunner_add_suite(sr, moved_suite());
    srunner_add_suite(sr, names_suite());
    srunner_add_suite(sr, overlap_suite());
    srunner_add_suite(sr, storm_suite());
    srunner_add_suite(sr, offline_suite());
    srunner_add_suite(sr, sv_elf_suite());
    srunner_add_suite(sr, sv_decide_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
