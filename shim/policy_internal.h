/* Pieces of the policy module shared with the JSON config loader. */
#ifndef HOSTUP_POLICY_INTERNAL_H
#define HOSTUP_POLICY_INTERNAL_H
#include "hostup/policy.h"

hu_policy *hu_policy_new(void);
void hu_rule_default_retry_on(hu_rule *r);
int hu_rule_apply_option(hu_rule *r, const char *tok, const char **why);
int hu_policy_push_rule(hu_policy *p, const hu_rule *r);
void hu_rule_release(hu_rule *r);
void hu_policy_add_error(hu_policy *p, const char *source, int rule, int line, int column,
                         const char *text, size_t textlen, const char *reason);
#endif
