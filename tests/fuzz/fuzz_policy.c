/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the HOSTUP_POLICY parser and what is done with its
 * result (matching, path matching, describing).
 *
 * Input: POLICY [\0 HOST [\0 PATH]].  The policy text is parsed; HOST and
 * PATH (defaults below when absent) are matched against it, together with
 * addresses and a port derived from the input.  Properties checked beyond
 * "no crash, no leak": errors are complete, hu_rule_describe behaves like
 * snprintf, and every rule that names one literal target matches it (or an
 * earlier rule does). */
#include <stdlib.h>

#include "policy_checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *part[3];
    size_t n = fuzz_split(data, size, part, 3);
    const char *host = n > 1 ? part[1] : "db.svc.cluster.local";
    const char *path = n > 2 ? part[2] : "/mnt/data/file";
    uint32_t h = hash(data, size);

    hu_policy *p = hu_policy_parse(part[0]);
    FUZZ_CHECK(p != NULL);
    fuzz_policy_checks(p, host, path, h);
    hu_policy_free(p);

    /* the small parsers straight on the other parts */
    hu_selector sel;
    const char *why = NULL;
    if (hu_parse_selector(host, &sel, &why) == 0)
        free(sel.pattern);
    else
        FUZZ_CHECK(why != NULL);
    unsigned ms;
    int fam;
    unsigned char addr[16];
    unsigned prefix;
    if (hu_parse_duration(path, &ms, &why) == 0)
        FUZZ_CHECK(ms <= 24u * 3600u * 1000u);
    if (hu_parse_cidr(host, &fam, addr, &prefix, &why) == 0)
        FUZZ_CHECK(prefix <= (fam == AF_INET ? 32u : 128u));
    free(part[0]);
    return 0;
}
