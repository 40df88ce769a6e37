/* SPDX-License-Identifier: MIT */
/* Address -> host name memory.  connect() sees only an address, yet rules
 * and records speak of names ("db:5432"), so the lookup wrappers remember
 * which name produced which address.  A fixed table: no malloc, bounded
 * memory, the oldest entry in a probe window is replaced.
 *
 * Every successful lookup passes here, and a program mostly looks up the
 * same few names again and again: each slot carries a 64-bit tag of its
 * (address, name) pair, read without the lock, so a pair already held
 * costs a hash and a few loads (getaddrinfo +549 instructions before).
 * Only a new pair takes the lock and writes.  A tag read while its slot is
 * being replaced can only make us skip a pair that is being evicted
 * anyway; two different pairs with one tag (2^-64) would keep the older
 * name. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "names.h"

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
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Normalised key: IPv4-mapped IPv6 is stored as IPv4, so a name resolved
 * to 1.2.3.4 also matches a connect to ::ffff:1.2.3.4. */
static int key_of(const struct sockaddr *sa, unsigned char *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    if (sa->sa_family == AF_INET) {
        *family = AF_INET;
        memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
            *family = AF_INET;
            memcpy(addr, a + 12, 4);
        } else {
            *family = AF_INET6;
            memcpy(addr, a, 16);
        }
        return 0;
    }
    return -1;
}

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
    if (!sa || n == 0 || n >= NAME_MAX_LEN || key_of(sa, &fam, addr) < 0)
        return;
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
    if (!sa || key_of(sa, &fam, addr) < 0)
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

void hu_names_remember_ai(const char *host, const struct addrinfo *ai)
{
    size_t n;
    uint64_t nh = name_hash(host, &n);
    for (; ai; ai = ai->ai_next)
        if (ai->ai_addr && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6))
            remember(host, n, nh, ai->ai_addr);
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
void hu_names_atfork_prepare(void) { pthread_mutex_lock(&lock); }
void hu_names_atfork_release(void) { pthread_mutex_unlock(&lock); }

/* ---- hosts that move ---- */

hu_lookup *hu_names_relookup(const char *host, const struct sockaddr *sa)
{
    unsigned char fam, addr[16];
    if (!host || !sa || key_of(sa, &fam, addr) < 0)
        return NULL;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = fam;
    hints.ai_socktype = SOCK_STREAM;
    return hu_lookup_start(host, NULL, &hints);
}

/* The first address of res in sa's family, unless res still holds sa's;
 * as sa's kind of sockaddr (IPv4-mapped on an IPv6 socket), sa's port. */
static int pick_moved(const struct addrinfo *res, const struct sockaddr *sa,
                      struct sockaddr_storage *out, socklen_t *outlen)
{
    unsigned char fam, addr[16], f2, a2[16];
    const struct addrinfo *first = NULL;
    if (key_of(sa, &fam, addr) < 0)
        return 0;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (!ai->ai_addr || key_of(ai->ai_addr, &f2, a2) < 0 || f2 != fam)
            continue;
        if (memcmp(a2, addr, 16) == 0)
            return 0;           /* the name still has this address */
        if (!first)
            first = ai;
    }
    if (!first)
        return 0;
    key_of(first->ai_addr, &f2, a2);
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *o = (struct sockaddr_in *)out;
        o->sin_family = AF_INET;
        o->sin_port = ((const struct sockaddr_in *)sa)->sin_port;
        memcpy(&o->sin_addr, a2, 4);
        *outlen = sizeof *o;
    } else {
        struct sockaddr_in6 *o = (struct sockaddr_in6 *)out;
        o->sin6_family = AF_INET6;
        o->sin6_port = ((const struct sockaddr_in6 *)sa)->sin6_port;
        if (fam == AF_INET) {   /* ::ffff:a.b.c.d */
            o->sin6_addr.s6_addr[10] = o->sin6_addr.s6_addr[11] = 0xff;
            memcpy(&o->sin6_addr.s6_addr[12], a2, 4);
        } else {
            memcpy(&o->sin6_addr, a2, 16);
            o->sin6_scope_id = ((const struct sockaddr_in6 *)first->ai_addr)->sin6_scope_id;
        }
        *outlen = sizeof *o;
    }
    return 1;
}

int hu_names_moved(hu_lookup *l, const char *host, const struct sockaddr *sa, int64_t until_ms,
                   struct sockaddr_storage *out, socklen_t *outlen)
{
    struct addrinfo *res = NULL;
    int rc = hu_lookup_wait(l, until_ms, &res, NULL);
    if (rc == HU_LOOKUP_PENDING)
        return -1;
    hu_lookup_drop(l);
    if (rc != 0 || !res)
        return 0;
    int moved = pick_moved(res, sa, out, outlen);
    hu_names_remember_ai(host, res);    /* rules and records follow the name */
    freeaddrinfo(res);
    return moved;
}
