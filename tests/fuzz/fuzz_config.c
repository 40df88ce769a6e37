/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the JSON config loader (HOSTUP_CONFIG).
 *
 * Input: JSON [\0 HOST [\0 PATH]].  The JSON is added to an empty policy
 * and to one with a text rule, from a string and from a file; the results
 * go through the same checks as fuzz_policy, and every config error is
 * written as a config_error record (to /dev/null) the way init.c does. */
#include <stdlib.h>
#include <sys/stat.h>

#include "core/log.h"
#include "policy_checks.h"

static char json_path[64];

static void cleanup(void) { unlink(json_path); }

static void setup(void)
{
    if (json_path[0])
        return;
    fuzz_log_to_devnull(hu_log_configure);
    snprintf(json_path, sizeof json_path, "/tmp/hostup-fuzz-config.%d.json", (int)getpid());
    atexit(cleanup);
}

static void check_config_policy(hu_policy *p, size_t text_rules, const char *host,
                                const char *path, uint32_t h)
{
    fuzz_policy_checks(p, host, path, h);
    for (size_t i = 0; i < p->nrules; i++) {
        FUZZ_CHECK(p->rules[i].from_config == (i >= text_rules));
        FUZZ_CHECK(p->rules[i].number >= 1);
    }
    for (size_t i = 0; i < p->nerrors; i++)
        hu_log_config_error(&p->errors[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[3];
    size_t n = fuzz_split(data, size, part, 3);
    const char *host = n > 1 ? part[1] : "db";
    const char *path = n > 2 ? part[2] : "/mnt/nfs/data";
    uint32_t h = hash(data, size);
    setup();

    hu_policy *p = hu_policy_parse(NULL);
    FUZZ_CHECK(p != NULL);
    hu_policy_add_json(p, part[0], "fuzz.json");
    check_config_policy(p, 0, host, path, h);
    hu_policy_free(p);

    p = hu_policy_parse("db:5432 attempts=3; /mnt/nfs attempts=2");
    FUZZ_CHECK(p != NULL && p->nrules == 2);
    hu_policy_add_json(p, part[0], "fuzz.json");
    check_config_policy(p, 2, host, path, h);
    hu_policy_free(p);

    /* the file form: the whole input, NUL bytes included; one input in 16
     * (the file costs ten times the rest, and reading it is a few lines) */
    if (h % 16 != 0) {
        free(part[0]);
        return 0;
    }
    FILE *f = fopen(json_path, "w");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size || size == 0);
    fclose(f);
    p = hu_policy_parse(NULL);
    FUZZ_CHECK(p != NULL);
    hu_policy_add_json_file_within(p, json_path, 0);   /* no child process per input */
    check_config_policy(p, 0, host, path, h);
    hu_policy_free(p);

    free(part[0]);
    return 0;
}
