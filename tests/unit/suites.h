/* SPDX-License-Identifier: MIT */
/* Suites of the unit tests; tests/unit/main.c runs them all. */
#ifndef HOSTUP_TEST_SUITES_H
#define HOSTUP_TEST_SUITES_H

#include <check.h>

Suite *policy_suite(void);
Suite *parse_suite(void);
Suite *backoff_suite(void);
Suite *match_suite(void);
Suite *record_suite(void);
Suite *mounts_suite(void);
Suite *env_suite(void);
Suite *regress_suite(void);
Suite *shared_suite(void);
Suite *otel_suite(void);
Suite *limits_suite(void);
Suite *decide_suite(void);
Suite *moved_suite(void);
Suite *names_suite(void);
TCase *decide_offline_tcase(void);     /* part of decide_suite */
Suite *storm_suite(void);
Suite *offline_suite(void);
Suite *overlap_suite(void);
Suite *sv_elf_suite(void);
Suite *sv_decide_suite(void);

#endif
