/* SPDX-License-Identifier: MIT */
/* hostup doctor's network lines (doctor_net.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "doctor_net.h"

/* Append to buf (always NUL-terminated; what does not fit is cut). */
static void add(char *buf, size_t len, const char *sep, const char *text)
{
    size_t o = strlen(buf);
    if (o + 1 < len)
        snprintf(buf + o, len - o, "%s%s", o ? sep : "", text);
}

void hu_doc_net_interfaces(const hu_netinfo *n, const hu_env *e, char *buf, size_t len)
{
    char one[200], gw[INET6_ADDRSTRLEN + 12];
    buf[0] = '\0';
    json_t *j = hu_netinfo_json(n, -1);
    json_t *ifs = json_object_get(j, "interfaces"), *f;
    size_t i;
    json_array_foreach(ifs, i, f) {
        const char *g = json_string_value(json_object_get(f, "gateway"));
        snprintf(gw, sizeof gw, ", gateway %s", g ? g : "");
        snprintf(one, sizeof one, "%s %s (subnet %s%s)", json_string_value(json_object_get(f, "dev")),
                 json_string_value(json_object_get(f, "addr")), json_string_value(json_object_get(f, "subnet")),
                 g ? gw : "");
        add(buf, len, "; ", one);
    }
    json_decref(j);
    if (!n->have_ifs)
        add(buf, len, "; ", "interfaces unknown (netlink dump failed)");
    else if (!n->n_ifs)
        add(buf, len, "; ", "no global address");
    if (e->have_resolv)
        add(buf, len, "; ", e->docker_dns ? "resolver: Docker's embedded DNS (127.0.0.11)"
                                          : "resolver: not Docker's embedded DNS");
}

int hu_doc_net_routes(const hu_netinfo *n, char *buf, size_t len)
{
    char one[160];
    buf[0] = '\0';
    if (!n->have_routes)
        return 0;
    for (int i = 0; i < n->n_routes; i++) {
        hu_netinfo_route_text(&n->routes[i], one, sizeof one);
        add(buf, len, " | ", one);
    }
    if (!n->n_routes)
        add(buf, len, "", "none");
    return 1;
}

void hu_doc_print_alternatives(const json_t *verdict)
{
    const char *fix = json_string_value(json_object_get(verdict, "fix"));
    json_t *alts = json_object_get(verdict, "alternatives"), *alt;
    size_t i;
    if (fix)
        printf("fix: %s\n", fix);
    /* ranked: the verdict above is the first */
    json_array_foreach(alts, i, alt) {
        const char *layer = json_string_value(json_object_get(alt, "layer"));
        const char *cause = json_string_value(json_object_get(alt, "cause"));
        const char *next = json_string_value(json_object_get(alt, "next"));
        const char *afix = json_string_value(json_object_get(alt, "fix"));
        printf("less likely (%s): %s\n", layer ? layer : "?", cause ? cause : "?");
        if (next)
            printf("  next: %s\n", next);
        if (afix)
            printf("  fix: %s\n", afix);
    }
}
