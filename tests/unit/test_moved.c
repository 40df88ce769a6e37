/* SPDX-License-Identifier: MIT */
/* Hosts that moved, remembered (engine/moved.c), with a fake clock: where
 * a new connection to an old address goes, and when that stops. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "engine/moved.h"
#include "suites.h"

static struct sockaddr_in v4(const char *a, unsigned port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

#define SA(x) ((const struct sockaddr *)&(x))

/* where a connect to a:port goes ("" when nowhere else), and the name */
static const char *where(const char *a, unsigned port, int64_t now, char *host)
{
    static char buf[64];
    struct sockaddr_in s = v4(a, port);
    struct sockaddr_storage to;
    socklen_t tl = 0;
    host[0] = '\0';
    if (!hu_moved_find(SA(s), now, &to, &tl, host, 256))
        return "";
    if (to.ss_family == AF_INET) {
        const struct sockaddr_in *o = (const struct sockaddr_in *)&to;
        ck_assert_uint_eq(tl, sizeof *o);
        snprintf(buf, sizeof buf, "%s:%u", inet_ntoa(o->sin_addr), ntohs(o->sin_port));
    } else {
        snprintf(buf, sizeof buf, "family %d", to.ss_family);
    }
    return buf;
}

static void moved(const char *host, const char *from, const char *to, int64_t now)
{
    struct sockaddr_in a = v4(from, 5432), b = v4(to, 5432);
    hu_moved_note(host, SA(a), SA(b), now);
}

static void answer(const char *host, const char *a, int64_t now)
{
    unsigned char addr[16] = {0};
    inet_pton(AF_INET, a, addr);
    hu_moved_answer(host, AF_INET, addr, now);
}

static void setup(void) { hu_moved_forget_all(); }

START_TEST(new_connections_follow_the_move_with_their_port)
{
    char host[256];
    ck_assert_uint_eq(hu_moved_live, 0);
    moved("db", "198.19.1.10", "198.19.1.11", 1000);
    ck_assert_uint_eq(hu_moved_live, 1);
    ck_assert_str_eq(where("198.19.1.10", 5432, 1001, host), "198.19.1.11:5432");
    ck_assert_str_eq(host, "db");
    ck_assert_str_eq(where("198.19.1.10", 80, 1001, host), "198.19.1.11:80");
    ck_assert_str_eq(where("198.19.1.12", 5432, 1001, host), "");
}
END_TEST

START_TEST(an_ipv4_mapped_connect_follows_as_ipv4_mapped)
{
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(7)};
    inet_pton(AF_INET6, "::ffff:198.19.1.10", &s.sin6_addr);
    struct sockaddr_storage to;
    socklen_t tl;
    char host[256];
    ck_assert_int_eq(hu_moved_find(SA(s), 1, &to, &tl, host, sizeof host), 1);
    const struct sockaddr_in6 *o = (const struct sockaddr_in6 *)&to;
    char txt[64];
    inet_ntop(AF_INET6, &o->sin6_addr, txt, sizeof txt);
    ck_assert_int_eq(o->sin6_family, AF_INET6);
    ck_assert_str_eq(txt, "::ffff:198.19.1.11");
    ck_assert_uint_eq(ntohs(o->sin6_port), 7);
    ck_assert_uint_eq(tl, sizeof *o);
}
END_TEST

START_TEST(it_ends_after_the_bound_unless_a_lookup_confirms_it)
{
    char host[256];
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    ck_assert_str_eq(where("198.19.1.10", 1, HU_MOVED_MS - 1, host), "198.19.1.11:1");
    ck_assert_str_eq(where("198.19.1.10", 1, HU_MOVED_MS, host), "");
    ck_assert_uint_eq(hu_moved_live, 0);

    moved("db", "198.19.1.10", "198.19.1.11", 0);
    answer("db", "198.19.1.11", 20000);         /* db is still at .11 */
    ck_assert_str_eq(where("198.19.1.10", 1, HU_MOVED_MS + 19999, host), "198.19.1.11:1");
    ck_assert_str_eq(where("198.19.1.10", 1, HU_MOVED_MS + 20000, host), "");
    /* another name at the new address does not keep it */
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    answer("cache", "198.19.1.11", 20000);
    ck_assert_str_eq(where("198.19.1.10", 1, HU_MOVED_MS, host), "");
}
END_TEST

START_TEST(a_lookup_giving_the_old_address_ends_it)
{
    char host[256];
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    answer("db", "198.19.1.10", 5);
    ck_assert_str_eq(where("198.19.1.10", 1, 6, host), "");
    /* any name: the old address now belongs to something else */
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    answer("cache", "198.19.1.10", 5);
    ck_assert_str_eq(where("198.19.1.10", 1, 6, host), "");
    ck_assert_uint_eq(hu_moved_live, 0);
}
END_TEST

START_TEST(a_second_move_carries_the_first_along)
{
    char host[256];
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    moved("db", "198.19.1.11", "198.19.1.12", 10);
    ck_assert_str_eq(where("198.19.1.10", 1, 11, host), "198.19.1.12:1");
    ck_assert_str_eq(where("198.19.1.11", 1, 11, host), "198.19.1.12:1");
    /* moving back to an old address ends the entry for it */
    moved("db", "198.19.1.12", "198.19.1.10", 20);
    ck_assert_str_eq(where("198.19.1.10", 1, 21, host), "");
    ck_assert_str_eq(where("198.19.1.11", 1, 21, host), "198.19.1.10:1");
    ck_assert_str_eq(where("198.19.1.12", 1, 21, host), "198.19.1.10:1");
}
END_TEST

START_TEST(one_record_per_move_and_bad_input_ignored)
{
    moved("db", "198.19.1.10", "198.19.1.11", 0);
    struct sockaddr_in a = v4("198.19.1.10", 1), c = v4("198.19.1.99", 1);
    ck_assert_int_eq(hu_moved_used(SA(a)), 1);
    ck_assert_int_eq(hu_moved_used(SA(a)), 0);
    ck_assert_int_eq(hu_moved_used(SA(c)), 0);
    moved("db", "198.19.1.10", "198.19.1.11", 5);   /* moved again: a new record */
    ck_assert_int_eq(hu_moved_used(SA(a)), 1);
    hu_moved_forget_all();
    moved("", "198.19.1.10", "198.19.1.11", 0);      /* no name */
    moved("db", "198.19.1.10", "198.19.1.10", 0);    /* nowhere else */
    struct sockaddr_in6 six = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr);
    hu_moved_note("db", SA(a), SA(six), 0);          /* another family */
    ck_assert_uint_eq(hu_moved_live, 0);
}
END_TEST

START_TEST(a_full_table_drops_the_entry_that_ends_first)
{
    char host[256], a[32], b[32];
    for (int i = 0; i < 20; i++) {
        snprintf(a, sizeof a, "198.18.0.%d", i + 1);
        snprintf(b, sizeof b, "198.18.1.%d", i + 1);
        moved("db", a, b, i);
    }
    ck_assert_uint_le(hu_moved_live, 20);
    ck_assert_str_eq(where("198.18.0.1", 1, 100, host), "");        /* the oldest went */
    ck_assert_str_eq(where("198.18.0.20", 1, 100, host), "198.18.1.20:1");
}
END_TEST

Suite *moved_suite(void)
{
    Suite *s = suite_create("moved");
    TCase *t = tcase_create("moved");
    tcase_add_checked_fixture(t, setup, NULL);
    tcase_add_test(t, new_connections_follow_the_move_with_their_port);
    tcase_add_test(t, an_ipv4_mapped_connect_follows_as_ipv4_mapped);
    tcase_add_test(t, it_ends_after_the_bound_unless_a_lookup_confirms_it);
    tcase_add_test(t, a_lookup_giving_the_old_address_ends_it);
    tcase_add_test(t, a_second_move_carries_the_first_along);
    tcase_add_test(t, one_record_per_move_and_bad_input_ignored);
    tcase_add_test(t, a_full_table_drops_the_entry_that_ends_first);
    suite_add_tcase(s, t);
    return s;
}
