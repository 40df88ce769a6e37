/* SPDX-License-Identifier: MIT */
/* Pieces of the policy module (policy*.c) shared among its files and with
 * the JSON config loader (config.c). */
#ifndef HOSTUP_POLICY_INTERNAL_H
#define HOSTUP_POLICY_INTERNAL_H
#include <stdint.h>

#include "hostup/policy.h"

/* The retry bitmaps: bit n of a uint64_t array. */
static inline void set_bit64(uint64_t *bits, int n) { bits[n / 64] |= 1ull << (n % 64); }
static inline int get_bit64(const uint64_t *bits, int n) { return (bits[n / 64] >> (n % 64)) & 1; }

/* A whole decimal number up to max, nothing else (policy_parse.c). */
int hu_parse_uint(const char *s, unsigned long max, unsigned long *out);

hu_policy *hu_policy_new(void);
void hu_rule_default_retry_on(hu_rule *r);
int hu_rule_apply_option(hu_rule *r, const char *tok, const char **why);
int hu_policy_push_rule(hu_policy *p, const hu_rule *r);
void hu_rule_release(hu_rule *r);
/* Keeps the first HU_MAX_ERRORS errors; counts the rest in nerrors_more. */
void hu_policy_add_error(hu_policy *p, const char *source, int rule, int line, int column,
                         const char *text, size_t textlen, const char *reason);
/* An input refused or cut by a limit: always kept, whatever came before;
 * action says what happened instead (a static string). */
void hu_policy_add_limit_error(hu_policy *p, const char *source, const char *reason,
                               const char *action);
/* Room for one more rule?  If not, the rule is counted in nrules_skipped. */
int hu_policy_rule_room(hu_policy *p);
/* After a source is read: one limit error if it had rules left out
 * (skipped_before: nrules_skipped before the source was read). */
void hu_policy_report_rule_cap(hu_policy *p, const char *source, size_t skipped_before);
#endif
