/* SPDX-License-Identifier: MIT */
/* The name memory (engine/names.c): which name produced which address,
 * with the thread's memo of its last look-up kept right while other names
 * and other threads write the table. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/names.h"
#include "suites.h"

__thread int hu_guard;  /* the library's recursion guard (shim/sys/real.c) */

/* A one- or two-address answer, as getaddrinfo gives it. */
struct answer {
    struct addrinfo ai[2];
    struct sockaddr_in sa[2];
};

static const struct addrinfo *answer(struct answer *a, const char *ip1, const char *ip2)
{
    memset(a, 0, sizeof *a);
    const char *ips[2] = {ip1, ip2};
    for (int i = 0; i < 2 && ips[i]; i++) {
        a->sa[i].sin_family = AF_INET;
        inet_pton(AF_INET, ips[i], &a->sa[i].sin_addr);
        a->ai[i].ai_family = AF_INET;
        a->ai[i].ai_socktype = SOCK_STREAM;
        a->ai[i].ai_addr = (struct sockaddr *)&a->sa[i];
        a->ai[i].ai_addrlen = sizeof a->sa[i];
        if (i)
            a->ai[0].ai_next = &a->ai[1];
    }
    return a->ai;
}

/* the name the memory gives for ip ("" when none) */
static const char *name_of(const char *ip)
{
    static __thread char buf[256];
    struct sockaddr_in s = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &s.sin_addr);
    if (!hu_names_lookup((const struct sockaddr *)&s, buf, sizeof buf))
        buf[0] = '\0';
    return buf;
}

/* Enough other names to replace every slot: 1,024 slots, 8 to a window. */
static void flood(unsigned base)
{
    struct answer a;
    char name[32], ip[32];
    for (unsigned i = 0; i < 4096; i++) {
        snprintf(name, sizeof name, "flood%u.test", base + i);
        snprintf(ip, sizeof ip, "198.19.%u.%u", (base + i) >> 8 & 255, (base + i) & 255);
        hu_names_remember_ai(name, answer(&a, ip, NULL));
    }
}

START_TEST(answer_remembered_and_asked_again)
{
    struct answer a;
    hu_names_remember_ai("db.test", answer(&a, "198.18.7.1", "198.18.7.2"));
    ck_assert_str_eq(name_of("198.18.7.1"), "db.test");
    ck_assert_str_eq(name_of("198.18.7.2"), "db.test");
    /* the same answer again: held */
    hu_names_remember_ai("db.test", answer(&a, "198.18.7.1", "198.18.7.2"));
    ck_assert_str_eq(name_of("198.18.7.2"), "db.test");
}
END_TEST

/* The memo says "held" only while no slot was written since: after other
 * names replaced the table, the same answer is written again. */
START_TEST(memo_not_trusted_after_the_table_changed)
{
    struct answer a;
    hu_names_remember_ai("api.test", answer(&a, "198.18.8.1", NULL));
    hu_names_remember_ai("api.test", answer(&a, "198.18.8.1", NULL));   /* memo now */
    flood(0);
    ck_assert_str_eq(name_of("198.18.8.1"), "");        /* replaced */
    hu_names_remember_ai("api.test", answer(&a, "198.18.8.1", NULL));
    ck_assert_str_eq(name_of("198.18.8.1"), "api.test");
}
END_TEST

/* Another answer for the same name, or another name with the same answer,
 * is no memo hit. */
START_TEST(memo_keyed_by_name_and_every_address)
{
    struct answer a;
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.1", NULL));
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.1", NULL));
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.1", "198.18.9.2"));
    ck_assert_str_eq(name_of("198.18.9.2"), "cache.test");
    /* each time with the memo of the answer before it in force */
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.1", "198.18.9.2"));
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.3", "198.18.9.2"));
    ck_assert_str_eq(name_of("198.18.9.3"), "cache.test");
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.3", "198.18.9.2"));
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.3", "198.18.9.6"));
    ck_assert_str_eq(name_of("198.18.9.6"), "cache.test");
    hu_names_remember_ai("cache.test", answer(&a, "198.18.9.3", "198.18.9.6"));
    hu_names_remember_ai("cache2.test", answer(&a, "198.18.9.3", "198.18.9.6"));
    ck_assert_str_eq(name_of("198.18.9.3"), "cache2.test");  /* the newest name */
    /* a name the memo cannot hold (64 bytes or more) is still remembered */
    char longname[200];
    memset(longname, 'x', sizeof longname - 6);
    strcpy(longname + sizeof longname - 6, ".test");
    hu_names_remember_ai(longname, answer(&a, "198.18.9.4", NULL));
    hu_names_remember_ai(longname, answer(&a, "198.18.9.4", NULL));
    ck_assert_str_eq(name_of("198.18.9.4"), longname);
    /* numeric names are not names */
    hu_names_remember_ai("198.18.9.5", answer(&a, "198.18.9.5", NULL));
    ck_assert_str_eq(name_of("198.18.9.5"), "");
}
END_TEST

/* The memo is the thread's own, the table everyone's: a write by another
 * thread (here a flood that replaced the slot) makes the same answer be
 * written again. */
static void *flooder(void *p)
{
    flood(*(unsigned *)p);
    return NULL;
}

START_TEST(memo_sees_other_threads_writes)
{
    struct answer a;
    pthread_t t;
    unsigned base = 20000;
    hu_names_remember_ai("queue.test", answer(&a, "198.18.11.1", NULL));
    hu_names_remember_ai("queue.test", answer(&a, "198.18.11.1", NULL));
    ck_assert_int_eq(pthread_create(&t, NULL, flooder, &base), 0);
    pthread_join(t, NULL);
    ck_assert_str_eq(name_of("198.18.11.1"), "");
    hu_names_remember_ai("queue.test", answer(&a, "198.18.11.1", NULL));
    ck_assert_str_eq(name_of("198.18.11.1"), "queue.test");
}
END_TEST

/* Threads asking for their own names again and again while half of them
 * flood the table; then, once every thread is past its flood, one at a
 * time (no other writer), each asks once more: its address must give its
 * name, memo or not. */
enum { WORKERS = 6 };
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static unsigned turn;
static pthread_barrier_t flooded;

struct worker {
    unsigned id;
    int wrong;
};

static void *work(void *p)
{
    struct worker *w = p;
    struct answer a;
    char name[32], ip[32];
    snprintf(name, sizeof name, "svc%u.test", w->id);
    snprintf(ip, sizeof ip, "198.18.10.%u", w->id + 1);
    for (unsigned round = 0; round < 20; round++) {
        if (w->id % 2)
            flood(30000 + 10000 * w->id + round * 512);
        hu_names_remember_ai(name, answer(&a, ip, NULL));
        hu_names_remember_ai(name, answer(&a, ip, NULL));
    }
    pthread_barrier_wait(&flooded);
    pthread_mutex_lock(&turn_mu);
    while (turn != w->id)
        pthread_cond_wait(&turn_cv, &turn_mu);
    hu_names_remember_ai(name, answer(&a, ip, NULL));
    if (strcmp(name_of(ip), name) != 0)
        w->wrong = 1;
    turn++;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&turn_mu);
    return NULL;
}

START_TEST(threads_and_many_names)
{
    pthread_t t[WORKERS];
    struct worker w[WORKERS];
    turn = 0;
    ck_assert_int_eq(pthread_barrier_init(&flooded, NULL, WORKERS), 0);
    for (unsigned i = 0; i < WORKERS; i++) {
        w[i] = (struct worker){.id = i};
        ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (unsigned i = 0; i < WORKERS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_msg(w[i].wrong == 0, "thread %u: its address did not give its name", i);
    }
    pthread_barrier_destroy(&flooded);
}
END_TEST

Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *t = tcase_create("memory");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, answer_remembered_and_asked_again);
    tcase_add_test(t, memo_not_trusted_after_the_table_changed);
    tcase_add_test(t, memo_keyed_by_name_and_every_address);
    tcase_add_test(t, memo_sees_other_threads_writes);
    tcase_add_test(t, threads_and_many_names);
    suite_add_tcase(s, t);
    return s;
}
