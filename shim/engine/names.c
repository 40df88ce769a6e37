/* SPDX-License-Identifier: MIT */
/* Address -> host name memory.  connect() sees only an address, yet rules
 * and records speak of names ("db:5432"), so the lookup wrappers remember
 * which name produced which address.  A fixed table: no malloc, bounded
 * memory, the oldest entry in a probe window is replaced.
 *
 * Every successful lookup passes here, and a program mostly looks up the
 * same few names again and again.  Each thread keeps its last look-up (the
 * name and up to four addresses) with the table's write count at the time
 * it was found held: the same answer again, with no write to the table
 * since, is held still and costs a string compare (getaddrinfo +549
 * instructions before the tags, +340 before the memo).  Otherwise each
 * slot carries a 64-bit tag of its (address, name) pair, read without the
 * lock, so a pair already held costs a hash and a few loads.  Only a new
 * pair takes the lock and writes.  A tag read while its slot is being
 * replaced can only make us skip a pair that is being evicted anyway; two
 * different pairs with one tag (2^-64) would keep the older name. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "addrkey.h"
#include "moved.h"
#include "names.h"
#include "sys/real.h"
#include "retry.h"

#define SLOTS 1024          /* power of two */
#define PROBE 8
#define NAME_MAX_LEN 254

struct slot {
    uint64_t tag;           /* of (address, name); 0 while empty or written */
    uint64_t stamp;         /* 0 = empty; larger = newer */
    unsigned char family;
    unsigned char addr[16];
    char name[NAME_MAX_LEN];
};

static struct slot table[SLOTS];
static uint64_t clock_stamp;
static uint64_t writes;     /* slots written, ever: a memo's validity */
HU_FORK_STATE static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* 64 bits of the key: its four words folded, then mixed (murmur3's
 * finaliser); the slot is the top bits. */
static uint64_t addr_hash(unsigned char family, const unsigned char addr[16])
{
    uint32_t w[4];
    memcpy(w, addr, 16);
    uint64_t h = ((uint64_t)(w[0] ^ w[2]) << 32 | (w[1] ^ w[3])) ^ ((uint64_t)family << 56) ^ w[0];
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static unsigned slot_of(uint64_t ah) { return (unsigned)(ah >> 54) & (SLOTS - 1); }

/* The name's hash, eight bytes at a time, and its length */
static uint64_t name_hash(const char *s, size_t *len)
{
    size_t n = strlen(s), i = 0;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 29;
    }
    for (w = 0; i < n; i++)
        w = w << 8 | (unsigned char)s[i];
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    *len = n;
    return h ^ (h >> 32);
}

static uint64_t tag_of(uint64_t ah, uint64_t nh) { return (ah ^ (nh * 0x9e3779b97f4a7c15ull)) | 1; }

/* Numeric addresses have only hex digits, dots, colons (and a %zone): a
 * name with any other character is no address, without inet_pton. */
int hu_is_numeric_host(const char *node)
{
    const char *p = node;
    for (; *p; p++) {
        char c = *p;
        if (!((c >= '0' && c <= '9') || c == '.' || c == ':' || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')))
            break;
    }
    if (*p && *p != '%')
        return 0;
    unsigned char buf[16];
    return inet_pton(AF_INET, node, buf) == 1 || inet_pton(AF_INET6, node, buf) == 1;
}

static int held(unsigned h, uint64_t tag)
{
    for (int i = 0; i < PROBE; i++)
        if (__atomic_load_n(&table[(h + (unsigned)i) & (SLOTS - 1)].tag, __ATOMIC_ACQUIRE) == tag)
            return 1;
    return 0;
}

static void remember(const char *host, size_t n, uint64_t nh, const struct sockaddr *sa)
{
    unsigned char fam, addr[16];
    if (!sa || n == 0 || n >= NAME_MAX_LEN || hu_addr_key(sa, &fam, addr) < 0)
        return;
    if (HU_UNLIKELY(__atomic_load_n(&hu_moved_live, __ATOMIC_RELAXED)))
        hu_moved_answer(host, fam, addr, hu_now_ms());
    uint64_t ah = addr_hash(fam, addr), tag = tag_of(ah, nh);
    unsigned h = slot_of(ah);
    if (held(h, tag))
        return;
    pthread_mutex_lock(&lock);
    struct slot *victim = NULL;
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &table[(h + (unsigned)i) & (SLOTS - 1)];
        if (s->stamp && s->family == fam && memcmp(s->addr, addr, 16) == 0) {
            victim = s;         /* same address: the newest name wins */
            break;
        }
        if (!victim || s->stamp < victim->stamp)
            victim = s;
    }
    __atomic_store_n(&victim->tag, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    victim->stamp = ++clock_stamp;
    victim->family = fam;
    memcpy(victim->addr, addr, 16);
    memcpy(victim->name, host, n + 1);
    __atomic_store_n(&victim->tag, tag, __ATOMIC_RELEASE);
    /* counted once the slot is whole: a reader that sees this count sees
     * the new tag, and one that saw the old count is left stale by it */
    __atomic_store_n(&writes, writes + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&lock);
}

void hu_names_remember(const char *host, const struct sockaddr *sa)
{
    size_t n;
    uint64_t nh = name_hash(host, &n);
    remember(host, n, nh, sa);
}

int hu_names_lookup(const struct sockaddr *sa, char *buf, size_t len)
{
    unsigned char fam, addr[16];
    int found = 0;
    if (!sa || hu_addr_key(sa, &fam, addr) < 0)
        return 0;
    unsigned h = slot_of(addr_hash(fam, addr));
    pthread_mutex_lock(&lock);
    for (int i = 0; i < PROBE; i++) {
        struct slot *s = &table[(h + (unsigned)i) & (SLOTS - 1)];
        if (s->stamp && s->family == fam && memcmp(s->addr, addr, 16) == 0) {
            size_t n = strnlen(s->name, sizeof s->name);
            if (n < len) {
                memcpy(buf, s->name, n + 1);
                found = 1;
            }
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* getaddrinfo lists each address once per socket type (three entries for
 * one address without hints): each address is remembered once. */
static int same_addr(const struct addrinfo *a, const struct addrinfo *b)
{
    if (!a || a->ai_family != b->ai_family || !a->ai_addr)
        return 0;
    if (b->ai_family == AF_INET)
        return ((const struct sockaddr_in *)a->ai_addr)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b->ai_addr)->sin_addr.s_addr;
    return memcmp(&((const struct sockaddr_in6 *)a->ai_addr)->sin6_addr,
                  &((const struct sockaddr_in6 *)b->ai_addr)->sin6_addr, 16) == 0;
}

/* ---- the thread's last look-up ---- */

#define MEMO_NAME 64
struct memo {
    uint64_t writes;            /* the table's write count when all were held */
    uint64_t print;             /* of the answer's addresses; 0: no memo */
    char name[MEMO_NAME];
};
static __thread struct memo tls_memo __attribute__((tls_model("initial-exec")));

/* The answer's inet addresses, in order, folded into 64 bits (never 0).
 * Two answers with one print (about 2^-64) would keep the older one. */
static uint64_t answer_print(const struct addrinfo *ai)
{
    uint64_t h = 0x9e3779b97f4a7c15ull, w[2];
    for (; ai; ai = ai->ai_next) {
        if (!ai->ai_addr)
            continue;
        if (ai->ai_family == AF_INET) {
            w[0] = ((const struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr;
            w[1] = 0;
        } else if (ai->ai_family == AF_INET6) {
            memcpy(w, &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
            w[1] ^= 1;      /* never an IPv4 one's words */
        } else {
            continue;
        }
        h = (h ^ w[0]) * 0xff51afd7ed558ccdull;
        h = (h ^ (h >> 29) ^ w[1]) * 0xc4ceb9fe1a85ec53ull;
    }
    return h | 1;
}

/* Each pair of the answer, unless numeric.  Takes the guard: remember may
 * reach moved.c, locks and the clock. */
static __attribute__((noinline)) void remember_answer(const char *host, const struct addrinfo *ai,
                                                      uint64_t print)
{
    if (hu_is_numeric_host(host))
        return;
    int saved = errno;
    hu_guard++;
    struct memo *m = &tls_memo;
    uint64_t seen = __atomic_load_n(&writes, __ATOMIC_ACQUIRE);
    size_t n;
    uint64_t nh = name_hash(host, &n);
    for (const struct addrinfo *prev = NULL; ai; prev = ai, ai = ai->ai_next)
        if (ai->ai_addr && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            !same_addr(prev, ai))
            remember(host, n, nh, ai->ai_addr);
    /* all held as of `seen`: any write since (ours too) leaves the memo
     * unused next time, when a pass that finds all held renews it */
    m->print = 0;
    if (n < MEMO_NAME) {
        memcpy(m->name, host, n + 1);
        m->writes = seen;
        m->print = print;
    }
    hu_guard--;
    errno = saved;
}

void hu_names_remember_ai(const char *host, const struct addrinfo *ai)
{
    const struct memo *m = &tls_memo;
    uint64_t print = answer_print(ai);
    /* a moved host's look-up must reach moved.c (in remember) */
    if (HU_LIKELY(m->print == print && !__atomic_load_n(&hu_moved_live, __ATOMIC_RELAXED) &&
                  m->writes == __atomic_load_n(&writes, __ATOMIC_ACQUIRE) &&
                  strcmp(m->name, host) == 0))
        return;
    remember_answer(host, ai, print);
}

void hu_names_remember_hostent(const char *host, const struct hostent *he)
{
    if (!he || !he->h_addr_list)
        return;
    size_t n;
    uint64_t nh = name_hash(host, &n);
    for (char **a = he->h_addr_list; *a; a++) {
        struct sockaddr_in6 s6 = {0};
        struct sockaddr_in s4 = {0};
        if (he->h_addrtype == AF_INET && he->h_length == 4) {
            s4.sin_family = AF_INET;
            memcpy(&s4.sin_addr, *a, 4);
            remember(host, n, nh, (struct sockaddr *)&s4);
        } else if (he->h_addrtype == AF_INET6 && he->h_length == 16) {
            s6.sin6_family = AF_INET6;
            memcpy(&s6.sin6_addr, *a, 16);
            remember(host, n, nh, (struct sockaddr *)&s6);
        }
    }
}

/* fork: hold the lock across fork so the child never inherits it taken. */
HU_FORK_CODE void hu_names_atfork_prepare(void) { pthread_mutex_lock(&lock); }
HU_FORK_CODE void hu_names_atfork_release(void) { pthread_mutex_unlock(&lock); }
