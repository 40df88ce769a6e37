/* SPDX-License-Identifier: MIT */
/* HOSTUP_POLICY text and the JSON config: rules, defaults, errors. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "hostup/policy.h"
#include "suites.h"

static hu_policy *parse_clean(const char *text, size_t nrules)
{
    hu_policy *p = hu_policy_parse(text);
    ck_assert_ptr_nonnull(p);
    ck_assert_msg(p->nerrors == 0, "'%s': unexpected error: %s", text,
                  p->nerrors ? p->errors[0].reason : "");
    ck_assert_uint_eq(p->nrules, nrules);
    return p;
}

/* Everything hu_rule_defaults promises, checked field by field. */
static void assert_default_values(const hu_rule *r)
{
    ck_assert_int_eq(r->off, 0);
    ck_assert_uint_eq(r->attempts, 40);
    ck_assert_uint_eq(r->timeout_ms, 0);
    ck_assert_uint_eq(r->deadline_ms, 30000);
    ck_assert_uint_eq(r->backoff_first_ms, 200);
    ck_assert_uint_eq(r->backoff_cap_ms, 2000);
    ck_assert_double_eq(r->multiplier, 2.0);
    ck_assert_int_eq(r->jitter, HU_JITTER_EQUAL);
}

static void assert_default_retry_on(const hu_rule *r)
{
    ck_assert_int_eq(hu_rule_retries_errno(r, EHOSTDOWN), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, EHOSTUNREACH), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, ENETUNREACH), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, ECONNREFUSED), 0);
    ck_assert_int_eq(hu_rule_retries_errno(r, ETIMEDOUT), 0);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_AGAIN), 1);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_NONAME), 0);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_FAIL), 0);
}

/* ---- defaults ------------------------------------------------------------ */

START_TEST(defaults_documented)
{
    hu_rule r;
    hu_rule_defaults(&r);
    assert_default_values(&r);
    assert_default_retry_on(&r);
    ck_assert_int_eq(r.sel.kind, HU_SEL_ANY);
    ck_assert_int_eq(r.number, 0);
    ck_assert_str_eq(r.text, "(defaults)");
    /* out-of-range codes are never retried */
    ck_assert_int_eq(hu_rule_retries_errno(&r, 0), 0);
    ck_assert_int_eq(hu_rule_retries_errno(&r, -EHOSTDOWN), 0);
    ck_assert_int_eq(hu_rule_retries_errno(&r, HU_ERRNO_MAX), 0);
    ck_assert_int_eq(hu_rule_retries_eai(&r, 0), 0);
    ck_assert_int_eq(hu_rule_retries_eai(&r, -HU_EAI_MAX), 0);
    ck_assert_int_eq(hu_rule_retries_eai(&r, 3), 0);
}
END_TEST

START_TEST(empty_policy_uses_defaults)
{
    hu_policy *p = parse_clean("", 0);
    assert_default_values(&p->defaults);
    assert_default_retry_on(&p->defaults);
    ck_assert_int_eq(p->any_timeout, 0);
    hu_policy_free(p);

    p = hu_policy_parse(NULL);
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 0);
    hu_policy_free(p);
}
END_TEST

/* ---- good policies ------------------------------------------------------- */

START_TEST(readme_example)
{
    hu_policy *p = parse_clean("db:5432 attempts=20 deadline=90s; * attempts=4", 2);
    const hu_rule *db = &p->rules[0], *any = &p->rules[1];

    ck_assert_int_eq(db->number, 1);
    ck_assert_str_eq(db->text, "db:5432 attempts=20 deadline=90s");
    ck_assert_int_eq(db->sel.kind, HU_SEL_HOST);
    ck_assert_str_eq(db->sel.pattern, "db");
    ck_assert_uint_eq(db->sel.port_lo, 5432);
    ck_assert_uint_eq(db->sel.port_hi, 5432);
    ck_assert_uint_eq(db->attempts, 20);
    ck_assert_uint_eq(db->deadline_ms, 90000);
    ck_assert_uint_eq(db->timeout_ms, 0);
    ck_assert_uint_eq(db->backoff_first_ms, 200);
    ck_assert_uint_eq(db->backoff_cap_ms, 2000);
    assert_default_retry_on(db);

    ck_assert_int_eq(any->number, 2);
    ck_assert_str_eq(any->text, "* attempts=4");
    ck_assert_int_eq(any->sel.kind, HU_SEL_ANY);
    ck_assert_uint_eq(any->sel.port_lo, 0);
    ck_assert_uint_eq(any->attempts, 4);
    ck_assert_uint_eq(any->deadline_ms, 30000);
    hu_policy_free(p);
}
END_TEST

START_TEST(selector_forms)
{
    hu_policy *p = parse_clean("*.svc.cluster.local attempts=2; 192.0.2.7; [2001:db8::7];"
                               " 10.0.0.0/8; [fd00::/8]; *:5432; web:8000-8099", 7);
    ck_assert_int_eq(p->rules[0].sel.kind, HU_SEL_HOST);
    ck_assert_str_eq(p->rules[0].sel.pattern, "*.svc.cluster.local");
    ck_assert_uint_eq(p->rules[0].attempts, 2);
    ck_assert_int_eq(p->rules[1].sel.kind, HU_SEL_ADDR);
    ck_assert_int_eq(p->rules[1].sel.family, AF_INET);
    ck_assert_uint_eq(p->rules[1].sel.prefix, 32);
    ck_assert_int_eq(p->rules[2].sel.kind, HU_SEL_ADDR);
    ck_assert_int_eq(p->rules[2].sel.family, AF_INET6);
    ck_assert_uint_eq(p->rules[2].sel.prefix, 128);
    ck_assert_int_eq(p->rules[3].sel.kind, HU_SEL_CIDR);
    ck_assert_int_eq(p->rules[3].sel.family, AF_INET);
    ck_assert_uint_eq(p->rules[3].sel.prefix, 8);
    ck_assert_int_eq(p->rules[4].sel.kind, HU_SEL_CIDR);
    ck_assert_int_eq(p->rules[4].sel.family, AF_INET6);
    ck_assert_uint_eq(p->rules[4].sel.prefix, 8);
    ck_assert_int_eq(p->rules[5].sel.kind, HU_SEL_ANY);
    ck_assert_uint_eq(p->rules[5].sel.port_lo, 5432);
    ck_assert_uint_eq(p->rules[5].sel.port_hi, 5432);
    ck_assert_int_eq(p->rules[6].sel.kind, HU_SEL_HOST);
    ck_assert_str_eq(p->rules[6].sel.pattern, "web");
    ck_assert_uint_eq(p->rules[6].sel.port_lo, 8000);
    ck_assert_uint_eq(p->rules[6].sel.port_hi, 8099);
    for (size_t i = 0; i < p->nrules; i++)
        ck_assert_int_eq(p->rules[i].number, (int)i + 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(path_rule)
{
    hu_policy *p = parse_clean("/mnt/data attempts=10 timeout=2s", 1);
    const hu_rule *r = &p->rules[0];
    ck_assert_int_eq(r->sel.kind, HU_SEL_PATH);
    ck_assert_str_eq(r->sel.pattern, "/mnt/data");
    ck_assert_uint_eq(r->attempts, 10);
    ck_assert_uint_eq(r->timeout_ms, 2000);
    ck_assert_int_eq(p->any_timeout, 0);   /* path rules do not bound connect() */
    hu_policy_free(p);

    p = parse_clean("db timeout=2s", 1);
    ck_assert_int_eq(p->any_timeout, 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(option_separators)
{
    static const char *const forms[] = {
        "db attempts=3 timeout=500ms jitter=none",
        "db,attempts=3,timeout=500ms,jitter=none",
        "db, attempts=3 ,timeout=500ms\tjitter=none",
        "  db attempts=3\n timeout=500ms jitter=none ;",
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        hu_policy *p = parse_clean(forms[i], 1);
        ck_assert_str_eq(p->rules[0].sel.pattern, "db");
        ck_assert_uint_eq(p->rules[0].attempts, 3);
        ck_assert_uint_eq(p->rules[0].timeout_ms, 500);
        ck_assert_int_eq(p->rules[0].jitter, HU_JITTER_NONE);
        hu_policy_free(p);
    }
}
END_TEST

START_TEST(all_options)
{
    hu_policy *p = parse_clean("db backoff=100ms..5s multiplier=1.5 jitter=decorrelated deadline=0s", 1);
    const hu_rule *r = &p->rules[0];
    ck_assert_uint_eq(r->backoff_first_ms, 100);
    ck_assert_uint_eq(r->backoff_cap_ms, 5000);
    ck_assert_double_eq(r->multiplier, 1.5);
    ck_assert_int_eq(r->jitter, HU_JITTER_DECORRELATED);
    ck_assert_uint_eq(r->deadline_ms, 0);
    hu_policy_free(p);

    p = parse_clean("a jitter=equal; b jitter=full; c backoff=1s..1s", 3);
    ck_assert_int_eq(p->rules[0].jitter, HU_JITTER_EQUAL);
    ck_assert_int_eq(p->rules[1].jitter, HU_JITTER_FULL);
    ck_assert_uint_eq(p->rules[2].backoff_first_ms, 1000);
    ck_assert_uint_eq(p->rules[2].backoff_cap_ms, 1000);
    hu_policy_free(p);
}
END_TEST

START_TEST(rule_off)
{
    hu_policy *p = parse_clean("cache off; db", 2);
    ck_assert_int_eq(p->rules[0].off, 1);
    ck_assert_int_eq(hu_rule_retries_errno(&p->rules[0], EHOSTUNREACH), 0);
    ck_assert_int_eq(hu_rule_retries_eai(&p->rules[0], EAI_AGAIN), 0);
    ck_assert_int_eq(p->rules[1].off, 0);
    ck_assert_int_eq(hu_rule_retries_errno(&p->rules[1], EHOSTUNREACH), 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(retry_on_replaces)
{
    hu_policy *p = parse_clean("db retry_on=ECONNREFUSED", 1);
    const hu_rule *r = &p->rules[0];
    ck_assert_int_eq(hu_rule_retries_errno(r, ECONNREFUSED), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, EHOSTUNREACH), 0);
    ck_assert_int_eq(hu_rule_retries_errno(r, EHOSTDOWN), 0);
    ck_assert_int_eq(hu_rule_retries_errno(r, ENETUNREACH), 0);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_AGAIN), 0);
    /* the policy-wide union still holds the defaults' codes plus this one */
    hu_rule u = {0};
    memcpy(u.retry_errno, p->any_errno, sizeof u.retry_errno);
    u.retry_eai = p->any_eai;
    ck_assert_int_eq(hu_rule_retries_errno(&u, ECONNREFUSED), 1);
    ck_assert_int_eq(hu_rule_retries_errno(&u, EHOSTUNREACH), 1);
    ck_assert_int_eq(hu_rule_retries_errno(&u, ETIMEDOUT), 0);
    ck_assert_int_eq(hu_rule_retries_eai(&u, EAI_AGAIN), 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(retry_on_adds)
{
    hu_policy *p = parse_clean("db retry_on=+ECONNREFUSED|EAI_NONAME", 1);
    const hu_rule *r = &p->rules[0];
    ck_assert_int_eq(hu_rule_retries_errno(r, ECONNREFUSED), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, EHOSTUNREACH), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, EHOSTDOWN), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, ENETUNREACH), 1);
    ck_assert_int_eq(hu_rule_retries_errno(r, ETIMEDOUT), 0);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_AGAIN), 1);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_NONAME), 1);
    ck_assert_int_eq(hu_rule_retries_eai(r, EAI_FAIL), 0);
    ck_assert_int_eq((p->any_eai >> -EAI_NONAME) & 1, 1);
    hu_policy_free(p);
}
END_TEST

START_TEST(empty_rules_skipped)
{
    hu_policy *p = parse_clean("a; ; b;", 2);
    ck_assert_str_eq(p->rules[0].text, "a");
    ck_assert_int_eq(p->rules[0].number, 1);
    ck_assert_str_eq(p->rules[1].text, "b");
    ck_assert_int_eq(p->rules[1].number, 2);
    hu_policy_free(p);

    p = parse_clean(";;  ;\t;", 0);
    hu_policy_free(p);
}
END_TEST

/* ---- bad policies ------------------------------------------------------- */

struct bad_case {
    const char *policy;
    int column;
    const char *reason;
};

static const struct bad_case bad_cases[] = {
    {"db attempts=abc", 4, "'attempts=abc': attempts must be a whole number from 1 to 1000"},
    {"db attempts=0", 4, "'attempts=0': attempts must be a whole number from 1 to 1000"},
    {"db attempts=1001", 4, "'attempts=1001': attempts must be a whole number from 1 to 1000"},
    {"db timeout=5", 4, "'timeout=5': missing unit (use ms, s or m)"},
    {"db timeout=5x", 4, "'timeout=5x': unknown unit (use ms, s or m)"},
    {"db deadline=25h", 4, "'deadline=25h': unknown unit (use ms, s or m)"},
    {"db backoff=5s..1s", 4, "'backoff=5s..1s': backoff FIRST is larger than CAP"},
    {"db backoff=5s", 4, "'backoff=5s': backoff must be FIRST..CAP, as in 100ms..5s"},
    {"db backoff=1s..x", 4, "'backoff=1s..x': not a duration (a number with ms, s or m)"},
    {"db multiplier=0.5", 4, "'multiplier=0.5': multiplier must be a number from 1 to 100"},
    {"db jitter=weird", 4, "'jitter=weird': jitter must be full, equal, decorrelated or none"},
    {"db colour=red", 4, "'colour=red': unknown option (attempts, timeout, deadline, backoff, "
                         "multiplier, jitter, retry_on, so_error, budget, budget_min, off)"},
    {"db attempts", 4, "'attempts': expected key=value or 'off'"},
    {"db retry_on=EBOGUS", 4, "'retry_on=EBOGUS': unknown errno or EAI name"},
    {"db retry_on=+", 4, "'retry_on=+': expected NAME|NAME... (errno or EAI names)"},
    {"fd00::1 attempts=3", 1, "'fd00::1': IPv6 addresses need brackets, as in [fd00::1]:5432"},
    {"db:70000", 1, "'db:70000': port must be N or LO-HI, from 1 to 65535"},
    {"attempts=3", 1, "'attempts=3': a rule starts with a selector: host[:port], address, CIDR, path or *"},
    {"off", 1, "'off': a rule starts with a selector: host[:port], address, CIDR, path or *"},
    {"db attempts=3 timeout=1s jitter=no", 26, "'jitter=no': jitter must be full, equal, decorrelated or none"},
};

START_TEST(bad_rule_error)
{
    const struct bad_case *c = &bad_cases[_i];
    hu_policy *p = hu_policy_parse(c->policy);
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 1);
    const hu_policy_error *e = &p->errors[0];
    ck_assert_str_eq(e->source, "HOSTUP_POLICY");
    ck_assert_int_eq(e->rule, 1);
    ck_assert_int_eq(e->line, 1);
    ck_assert_int_eq(e->column, c->column);
    ck_assert_str_eq(e->text, c->policy);
    ck_assert_str_eq(e->reason, c->reason);
    hu_policy_free(p);
}
END_TEST

START_TEST(bad_rule_dropped_others_kept)
{
    const char *text = "a attempts=2;  b:5432 timeout=5; c attempts=4";
    hu_policy *p = hu_policy_parse(text);
    ck_assert_uint_eq(p->nrules, 2);
    ck_assert_str_eq(p->rules[0].text, "a attempts=2");
    ck_assert_int_eq(p->rules[0].number, 1);
    ck_assert_uint_eq(p->rules[0].attempts, 2);
    ck_assert_str_eq(p->rules[1].text, "c attempts=4");
    ck_assert_int_eq(p->rules[1].number, 3);
    ck_assert_uint_eq(p->rules[1].attempts, 4);

    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_int_eq(p->errors[0].rule, 2);
    ck_assert_int_eq(p->errors[0].column, 23);   /* 't' of timeout=5 in the whole text */
    ck_assert_str_eq(p->errors[0].text, "b:5432 timeout=5");
    ck_assert_str_eq(p->errors[0].reason, "'timeout=5': missing unit (use ms, s or m)");
    hu_policy_free(p);
}
END_TEST

START_TEST(several_errors)
{
    hu_policy *p = hu_policy_parse("x attempts=0; y; [fd00::1; z jitter=none");
    ck_assert_uint_eq(p->nrules, 2);
    ck_assert_str_eq(p->rules[0].text, "y");
    ck_assert_str_eq(p->rules[1].text, "z jitter=none");
    ck_assert_uint_eq(p->nerrors, 2);
    ck_assert_int_eq(p->errors[0].rule, 1);
    ck_assert_int_eq(p->errors[0].column, 3);
    ck_assert_int_eq(p->errors[1].rule, 3);
    ck_assert_int_eq(p->errors[1].column, 18);
    ck_assert_str_eq(p->errors[1].text, "[fd00::1");
    ck_assert_str_eq(p->errors[1].reason, "'[fd00::1': missing ']' after IPv6 address");
    hu_policy_free(p);
}
END_TEST

/* ---- hu_rule_describe ---------------------------------------------------- */

START_TEST(describe_rule)
{
    hu_policy *p = parse_clean("db:5432 attempts=20 deadline=90s timeout=2s jitter=equal "
                               "backoff=100ms..5s multiplier=1.5 retry_on=+ECONNREFUSED", 1);
    char buf[512];
    size_t n = hu_rule_describe(&p->rules[0], buf, sizeof buf);
    const char *want = "attempts=20 timeout=2s deadline=90s backoff=100ms..5s "
                       "multiplier=1.5 jitter=equal so_error=einprogress "
                       "retry_on=ENETUNREACH|ECONNREFUSED|EHOSTDOWN|EHOSTUNREACH|EAI_AGAIN "
                       "budget=20% budget_min=10/s";
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(n, strlen(want));

    /* like snprintf: truncated but terminated, and the full length returned */
    char small[10];
    ck_assert_uint_eq(hu_rule_describe(&p->rules[0], small, sizeof small), strlen(want));
    ck_assert_str_eq(small, "attempts=");
    hu_policy_free(p);
}
END_TEST

START_TEST(describe_defaults_and_off)
{
    char buf[512];
    hu_rule r;
    hu_rule_defaults(&r);
    hu_rule_describe(&r, buf, sizeof buf);
    ck_assert_str_eq(buf, "attempts=40 timeout=none deadline=30s backoff=200ms..2s "
                          "multiplier=2 jitter=equal so_error=einprogress retry_on=ENETUNREACH|EHOSTDOWN|EHOSTUNREACH|EAI_AGAIN"
                          " budget=20% budget_min=10/s");
    r.off = 1;
    ck_assert_uint_eq(hu_rule_describe(&r, buf, sizeof buf), 3);
    ck_assert_str_eq(buf, "off");
}
END_TEST

/* ---- retry budget options ------------------------------------------------ */

START_TEST(budget_options)
{
    hu_rule d;
    hu_rule_defaults(&d);
    ck_assert_int_eq(d.budget_pct, 20);
    ck_assert_uint_eq(d.budget_min, 10);
    hu_policy *p = parse_clean("db budget=35% budget_min=3/s; api budget=off; * budget=0% budget_min=0/s", 3);
    ck_assert_int_eq(p->rules[0].budget_pct, 35);
    ck_assert_uint_eq(p->rules[0].budget_min, 3);
    ck_assert_int_eq(p->rules[1].budget_pct, -1);
    ck_assert_uint_eq(p->rules[1].budget_min, 10);
    ck_assert_int_eq(p->rules[2].budget_pct, 0);
    ck_assert_uint_eq(p->rules[2].budget_min, 0);
    char buf[512];
    hu_rule_describe(&p->rules[1], buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, " budget=off budget_min=10/s"));
    hu_policy_free(p);
    p = hu_policy_parse(NULL);
    hu_policy_add_json(p, "{\"rules\": [{\"match\": \"*\", \"budget\": \"50%\", \"budget_min\": \"2/s\"}]}", "t.json");
    ck_assert_uint_eq(p->nerrors, 0);
    ck_assert_int_eq(p->rules[0].budget_pct, 50);
    ck_assert_uint_eq(p->rules[0].budget_min, 2);
    hu_policy_free(p);
}
END_TEST

START_TEST(budget_bad)
{
    static const char *const bad[] = {"* budget=20", "* budget=%", "* budget=-1%", "* budget=1001%",
                                      "* budget=20%%", "* budget=x%", "* budget_min=10", "* budget_min=/s",
                                      "* budget_min=10/m", "* budget_min=-1/s", "* budget_min=100001/s",
                                      "* budget=", "* budget_min="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hu_policy *p = hu_policy_parse(bad[i]);
        ck_assert_msg(p->nerrors == 1 && p->nrules == 0, "'%s' accepted", bad[i]);
        ck_assert_ptr_nonnull(strstr(p->errors[0].reason, "budget"));
        hu_policy_free(p);
    }
}
END_TEST

/* ---- JSON config --------------------------------------------------------- */

START_TEST(json_good)
{
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json(p,
        "{\"comment\": \"top-level keys other than rules are ignored\",\n"
        " \"rules\": [\n"
        "  {\"match\": \"db:5432\", \"attempts\": 20, \"deadline\": \"90s\",\n"
        "   \"comment\": \"the primary\", \"//why\": \"slow to start\"},\n"
        "  {\"match\": \"*.svc.cluster.local\", \"timeout\": 1500, \"multiplier\": 1.5,\n"
        "   \"retry_on\": [\"ECONNREFUSED\", \"EAI_NONAME\"], \"off\": false},\n"
        "  {\"match\": \"cache\", \"off\": true}\n"
        "]}", "test.json");
    ck_assert_uint_eq(p->nerrors, 0);
    ck_assert_uint_eq(p->nrules, 3);

    const hu_rule *db = &p->rules[0];
    ck_assert_int_eq(db->number, 1);
    ck_assert_str_eq(db->text, "db:5432 attempts=20 deadline=90s");
    ck_assert_str_eq(db->sel.pattern, "db");
    ck_assert_uint_eq(db->sel.port_lo, 5432);
    ck_assert_uint_eq(db->attempts, 20);
    ck_assert_uint_eq(db->deadline_ms, 90000);
    assert_default_retry_on(db);

    const hu_rule *svc = &p->rules[1];
    ck_assert_int_eq(svc->number, 2);
    ck_assert_str_eq(svc->text, "*.svc.cluster.local timeout=1500ms multiplier=1.5 "
                                "retry_on=ECONNREFUSED|EAI_NONAME");
    ck_assert_uint_eq(svc->timeout_ms, 1500);      /* a bare number is milliseconds */
    ck_assert_double_eq(svc->multiplier, 1.5);
    ck_assert_int_eq(svc->off, 0);
    ck_assert_int_eq(hu_rule_retries_errno(svc, ECONNREFUSED), 1);
    ck_assert_int_eq(hu_rule_retries_errno(svc, EHOSTUNREACH), 0);   /* replaced */
    ck_assert_int_eq(hu_rule_retries_eai(svc, EAI_NONAME), 1);
    ck_assert_int_eq(hu_rule_retries_eai(svc, EAI_AGAIN), 0);
    ck_assert_int_eq(p->any_timeout, 1);

    ck_assert_int_eq(p->rules[2].off, 1);
    ck_assert_str_eq(p->rules[2].text, "cache off");
    hu_policy_free(p);
}
END_TEST

START_TEST(json_array_root)
{
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json(p, "[{\"match\": \"10.0.0.0/8\", \"attempts\": 3}]", "a.json");
    ck_assert_uint_eq(p->nerrors, 0);
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_int_eq(p->rules[0].sel.kind, HU_SEL_CIDR);
    ck_assert_uint_eq(p->rules[0].attempts, 3);
    hu_policy_free(p);
}
END_TEST

START_TEST(json_syntax_error)
{
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json(p, "{\"rules\": [\n  {\"match\": \"db\",}\n]}", "bad.json");
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 1);
    const hu_policy_error *e = &p->errors[0];
    ck_assert_str_eq(e->source, "bad.json");
    ck_assert_int_eq(e->rule, 0);
    ck_assert_int_eq(e->line, 2);
    ck_assert_int_eq(e->column, 18);   /* the stray '}' */
    ck_assert_str_eq(e->reason, "string or '}' expected near '}'");
    hu_policy_free(p);

    p = hu_policy_parse(NULL);
    hu_policy_add_json(p, "{\"rules\": [{\"match\": \"db\", \"attempts\": 2, \"attempts\": 3}]}", "dup.json");
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_int_eq(p->errors[0].line, 1);
    ck_assert_str_eq(p->errors[0].reason, "duplicate object key near '\"attempts\"'");
    hu_policy_free(p);
}
END_TEST

START_TEST(json_bad_rules)
{
    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json(p,
        "{\"rules\": [\n"
        "  {\"match\": \"db\", \"timeout\": \"1s\", \"attempts\": 0},\n"
        "  {\"match\": \"web\", \"jitter\": \"weird\"},\n"
        "  {\"match\": \"fd00::1\"},\n"
        "  {\"attempts\": 3},\n"
        "  {\"match\": \"x\", \"attempts\": true},\n"
        "  \"y\",\n"
        "  {\"match\": \"ok\", \"attempts\": 5}\n"
        "]}", "rules.json");
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_str_eq(p->rules[0].text, "ok attempts=5");
    ck_assert_uint_eq(p->rules[0].attempts, 5);

    ck_assert_uint_eq(p->nerrors, 6);
    static const char *const reasons[] = {
        "rule 1: \"attempts\": 'attempts=0': attempts must be a whole number from 1 to 1000",
        "rule 2: \"jitter\": 'jitter=weird': jitter must be full, equal, decorrelated or none",
        "rule 3: \"match\": 'fd00::1': IPv6 addresses need brackets, as in [fd00::1]:5432",
        "rule 4: \"match\" must be a string (host[:port], address, CIDR, path or *)",
        "rule 5: \"attempts\": unsupported value type",
        "rule 6: a rule is an object with a \"match\" key",
    };
    static const char *const texts[] = {"db timeout=1s", "web", "fd00::1", "", "x", ""};
    for (size_t i = 0; i < 6; i++) {
        ck_assert_str_eq(p->errors[i].source, "rules.json");
        ck_assert_str_eq(p->errors[i].reason, reasons[i]);
        ck_assert_str_eq(p->errors[i].text, texts[i]);
        ck_assert_int_eq(p->errors[i].line, 0);
        ck_assert_int_eq(p->errors[i].column, 0);
    }
    hu_policy_free(p);

    p = hu_policy_parse(NULL);
    hu_policy_add_json(p, "{\"rule\": []}", "r.json");
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_str_eq(p->errors[0].reason, "expected {\"rules\": [ ... ]} or a JSON array of rules");
    hu_policy_free(p);
}
END_TEST

START_TEST(json_file)
{
    char path[] = "/tmp/hostup-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    static const char body[] = "{\"rules\": [{\"match\": \"db\", \"attempts\": 7}]}\n";
    ck_assert_int_eq(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);

    hu_policy *p = hu_policy_parse(NULL);
    hu_policy_add_json_file(p, path);
    ck_assert_uint_eq(p->nerrors, 0);
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_uint_eq(p->rules[0].attempts, 7);
    hu_policy_free(p);
    unlink(path);

    p = hu_policy_parse(NULL);
    hu_policy_add_json_file(p, path);   /* gone now */
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->nerrors, 1);
    ck_assert_str_eq(p->errors[0].source, path);
    hu_policy_free(p);
}
END_TEST

START_TEST(env_rules_before_config)
{
    hu_policy *p = hu_policy_parse("db attempts=3");
    hu_policy_add_json(p, "{\"rules\": [{\"match\": \"db\", \"attempts\": 9},"
                          " {\"match\": \"*\", \"attempts\": 5}]}", "c.json");
    ck_assert_uint_eq(p->nerrors, 0);
    ck_assert_uint_eq(p->nrules, 3);
    const hu_rule *r = hu_policy_match(p, "db", NULL, 5432);
    ck_assert_ptr_eq(r, &p->rules[0]);
    ck_assert_uint_eq(r->attempts, 3);
    ck_assert_int_eq(r->number, 1);
    r = hu_policy_match(p, "web", NULL, 80);
    ck_assert_ptr_eq(r, &p->rules[2]);
    ck_assert_uint_eq(r->attempts, 5);
    ck_assert_int_eq(r->number, 2);         /* its position in the file */
    ck_assert_int_eq(r->from_config, 1);
    ck_assert_int_eq(p->rules[0].from_config, 0);
    hu_policy_free(p);
}
END_TEST

Suite *policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("defaults");
    tcase_add_test(tc, defaults_documented);
    tcase_add_test(tc, empty_policy_uses_defaults);
    suite_add_tcase(s, tc);

    tc = tcase_create("good");
    tcase_add_test(tc, readme_example);
    tcase_add_test(tc, selector_forms);
    tcase_add_test(tc, path_rule);
    tcase_add_test(tc, option_separators);
    tcase_add_test(tc, all_options);
    tcase_add_test(tc, rule_off);
    tcase_add_test(tc, retry_on_replaces);
    tcase_add_test(tc, retry_on_adds);
    tcase_add_test(tc, empty_rules_skipped);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad");
    tcase_add_loop_test(tc, bad_rule_error, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, bad_rule_dropped_others_kept);
    tcase_add_test(tc, several_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("describe");
    tcase_add_test(tc, describe_rule);
    tcase_add_test(tc, describe_defaults_and_off);
    tcase_add_test(tc, budget_options);
    tcase_add_test(tc, budget_bad);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, json_good);
    tcase_add_test(tc, json_array_root);
    tcase_add_test(tc, json_syntax_error);
    tcase_add_test(tc, json_bad_rules);
    tcase_add_test(tc, json_file);
    tcase_add_test(tc, env_rules_before_config);
    suite_add_tcase(s, tc);
    return s;
}
