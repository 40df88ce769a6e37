/* SPDX-License-Identifier: MIT */
/* Policy: an ordered list of rules; the first rule whose selector matches a
 * target decides how failures on that target are retried. */
#ifndef HOSTUP_POLICY_H
#define HOSTUP_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum hu_sel_kind { HU_SEL_ANY, HU_SEL_HOST, HU_SEL_ADDR, HU_SEL_CIDR, HU_SEL_PATH };
enum hu_jitter { HU_JITTER_FULL, HU_JITTER_EQUAL, HU_JITTER_DECORRELATED, HU_JITTER_NONE };

/* errno values below this fit the retry bitmap; Linux stops at 133. */
#define HU_ERRNO_MAX 192
/* EAI_* codes are small negative numbers; -1..-31 fit the bitmap. */
#define HU_EAI_MAX 32

/* Bounds on what a policy may cost (README, "Limits of the input"):
 * HOSTUP_POLICY and HOSTUP_CONFIG are each read up to HU_MAX_INPUT bytes
 * (a larger one is refused whole), at most HU_MAX_RULES rules are kept in
 * all, and at most HU_MAX_ERRORS errors are kept, the rest only counted.
 * 256 KiB, not 1 MiB: jansson lexes 1 MiB of JSON in 30-45 ms here, and
 * the largest accepted input must parse in under 20 ms
 * (bench/results/parse.md). */
#define HU_MAX_INPUT (1u << 18)
#define HU_MAX_RULES 10000
#define HU_MAX_ERRORS 10

typedef struct hu_selector {
    enum hu_sel_kind kind;
    char *pattern;            /* host glob (lower case) or path prefix */
    int family;               /* AF_INET or AF_INET6 for ADDR and CIDR */
    unsigned char addr[16];
    unsigned prefix;          /* CIDR length; full length for ADDR */
    unsigned port_lo, port_hi;/* 0,0 means any port */
} hu_selector;

typedef struct hu_rule {
    hu_selector sel;
    char *text;               /* the rule as written, for records */
    int number;               /* 1-based position in its source; 0: defaults */
    int from_config;          /* the rule came from HOSTUP_CONFIG */
    int off;                  /* no retry and no records */
    unsigned attempts;        /* total tries, the first included */
    unsigned timeout_ms;      /* one try; 0 = the kernel's own */
    unsigned deadline_ms;     /* all tries and waits; 0 = attempts only */
    unsigned backoff_first_ms, backoff_cap_ms;
    double multiplier;
    enum hu_jitter jitter;
    int so_error_zero;        /* so_error=zero: 0 instead of EINPROGRESS */
    /* Retry budget shared by the processes of one shared file (shared.h):
     * over a 10 s window, retries may add budget_pct % of first tries plus
     * budget_min per second.  budget_pct < 0: no budget (budget=off). */
    int budget_pct;
    unsigned budget_min;
    uint64_t retry_errno[HU_ERRNO_MAX / 64];
    uint32_t retry_eai;       /* bit n set: EAI code -n is retried */
} hu_rule;

typedef struct hu_policy_error {
    char *source;             /* "HOSTUP_POLICY" or the config file path */
    int rule;                 /* 1-based rule number, 0 if none */
    int line, column;         /* 1-based; column within the whole text */
    char *text;               /* offending text */
    char *reason;
    const char *action;       /* what was done (static); NULL: the rule is ignored */
} hu_policy_error;

typedef struct hu_policy {
    hu_rule *rules;
    size_t nrules;
    hu_rule defaults;         /* applies when no rule matches */
    hu_policy_error *errors;
    size_t nerrors;           /* kept: at most HU_MAX_ERRORS, plus limit errors */
    size_t nerrors_more;      /* further errors, counted only */
    char *more_source;        /* the source of the first of those */
    size_t nrules_skipped;    /* rules past HU_MAX_RULES, not read */
    uint64_t any_errno[HU_ERRNO_MAX / 64]; /* union over rules: fast reject */
    uint32_t any_eai;
    int any_timeout;          /* some rule bounds the first try */
} hu_policy;

/* Parse HOSTUP_POLICY text.  Never fails as a whole: rules that do not
 * parse are dropped and described in ->errors.  Returns NULL only when out
 * of memory. */
hu_policy *hu_policy_parse(const char *text);
/* Append the rules of a JSON config (string form) to p, after its own. */
void hu_policy_add_json(hu_policy *p, const char *json, const char *origin);
/* Same, from a file, read within HU_CONFIG_READ_MS; a file not read by
 * then (a network mount that stopped answering) is one error, and the
 * rules before it apply.  _within: another bound; 0 reads unbounded. */
#define HU_CONFIG_READ_MS 500
void hu_policy_add_json_file(hu_policy *p, const char *path);
void hu_policy_add_json_file_within(hu_policy *p, const char *path, unsigned timeout_ms);
/* Recompute the unions after rules were added. */
void hu_policy_finish(hu_policy *p);
void hu_policy_free(hu_policy *p);

/* The built-in defaults. */
void hu_rule_defaults(hu_rule *r);
/* Path rules (network volumes) retry other errors by default: ESTALE,
 * EHOSTDOWN, EHOSTUNREACH, ETIMEDOUT and ENOTCONN; EIO only when a rule
 * names it.  hu_rule_volume_defaults is the rule for network mounts that
 * no path rule matches. */
void hu_rule_volume_retry_on(hu_rule *r);
void hu_rule_volume_defaults(hu_rule *r);

/* First rule matching a network target.  host may be NULL (unknown name),
 * sa may be NULL (before resolution), port 0 means unknown.  Never NULL:
 * falls back to &p->defaults. */
const hu_rule *hu_policy_match(const hu_policy *p, const char *host,
                               const struct sockaddr *sa, unsigned port);
/* First path rule whose prefix contains path, or NULL. */
const hu_rule *hu_policy_match_path(const hu_policy *p, const char *path);

int hu_rule_retries_errno(const hu_rule *r, int err);
int hu_rule_retries_eai(const hu_rule *r, int eai);

/* Parsers shared with the CLI and tests.  Return 0 on success, else -1 and
 * a static reason in *why. */
int hu_parse_duration(const char *s, unsigned *ms, const char **why);
int hu_parse_cidr(const char *s, int *family, unsigned char addr[16],
                  unsigned *prefix, const char **why);
int hu_parse_selector(const char *s, hu_selector *sel, const char **why);

/* Human-readable effective values of a rule, written into buf. */
size_t hu_rule_describe(const hu_rule *r, char *buf, size_t len);

/* errno and EAI names: "EHOSTUNREACH" <-> 113, "EAI_AGAIN" <-> -3. */
const char *hu_errno_name(int err);
/* glibc's English description of err, "Unknown error" for none */
const char *hu_errno_desc(int err);
const char *hu_eai_name(int eai);
int hu_errno_from_name(const char *name);   /* 0 if unknown */
int hu_eai_from_name(const char *name);     /* 0 if unknown */

#endif
