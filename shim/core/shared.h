/* SPDX-License-Identifier: MIT */
/* The shared state of the processes under hostup: one small memory-mapped
 * file (HOSTUP_SHARED; by default /dev/shm/hostup-UID/netINODE, one per
 * user and network namespace, in a directory of the user's own).  Fixed size, a versioned header, no
 * allocation after the map, and no lock: every field is written with
 * atomics, and every claim (a target's slot, its probe lease, a waiter's
 * entry) records who made it, so a process killed at any point leaves
 * nothing that the others cannot take back (a lease expires, or its owner
 * is found dead).
 *
 * The library uses it for herd control (herd.c): one prober per dead
 * target, the retry budget, and the counters `hostup status` and
 * `hostup metrics` read (cli_status.c). */
#ifndef HOSTUP_SHARED_H
#define HOSTUP_SHARED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HU_SHM_MAGIC 0x3148535055534f48ull   /* "HOSUPSH1", little-endian */
#define HU_SHM_VERSION 2u
#define HU_SHM_SLOTS 256                      /* targets (addr:port) */
#define HU_SHM_WAITERS 2048                   /* connects waiting at once */
#define HU_SHM_WINDOW 10                      /* budget window, 1 s buckets */
#define HU_SHM_HIST 11                        /* time-to-recover buckets */
#define HU_SHM_ENV "HOSTUP_SHARED"
#define HU_SHM_DIR "/dev/shm/hostup-"             /* + uid: the default's directory */
#define HU_SHM_UNUSED_S 3600                  /* a default file no process mapped
                                                 for this long is removed */
/* The longest a lease may run ahead of now, and the longest its holder may
 * go without a try: a lease past either is taken over (a holder wrote a
 * lease ahead of what one probe can take, or stopped probing). */
#define HU_LEASE_MAX_MS 30000

/* gave_up reasons; the first HU_GU_N are counted per target (the file's
 * layout is fixed), the others only named in records: no_network (nothing
 * but loopback here: no herd to count it in) */
enum hu_giveup { HU_GU_ATTEMPTS, HU_GU_DEADLINE, HU_GU_BUDGET, HU_GU_ERROR, HU_GU_N,
                 HU_GU_NO_NETWORK = HU_GU_N, HU_GU_ALL };
extern const char *const hu_giveup_names[HU_GU_ALL];
/* upper bounds (ms) of the time-to-recover histogram; the last is +Inf */
extern const unsigned hu_shm_hist_ms[HU_SHM_HIST - 1];

enum hu_slot_state { HU_SLOT_OK = 0, HU_SLOT_FAILING = 1 };

struct hu_shm_bucket {
    int64_t sec;            /* which second (monotonic) it counts */
    uint32_t first;         /* first tries */
    uint32_t retries;       /* retries charged */
};

struct hu_shm_slot {
    uint64_t key;           /* hash of family, address and port; 0: free */
    uint16_t family, port;
    uint8_t addr[16];
    uint32_t state;         /* enum hu_slot_state */
    uint32_t gen;           /* futex word: bumped when the target connects
                               or its lease is given back */
    int32_t lease_tid;      /* the prober (thread id); 0: nobody */
    int32_t lease_pid;
    uint64_t lease_pidns;   /* its pid namespace: pids elsewhere mean nothing */
    int64_t lease_until;    /* ms, CLOCK_MONOTONIC: the lease lapses then */
    int64_t failing_since, last_change, last_probe;
    int32_t last_errno;
    uint32_t ramp_next;     /* the return after a recovery: tickets taken */
    uint64_t tries;         /* tries after a failure was seen, any process */
    uint64_t retries;       /* of which retries (not first tries) */
    uint64_t probe_waits;   /* tries skipped because another process probes */
    uint64_t recovered;
    uint64_t gave_up[HU_GU_N];
    uint64_t hist[HU_SHM_HIST];   /* recovered connects by time to recover */
    uint64_t hist_sum_ms;
    uint64_t lease_start;   /* the prober's process start time (/proc stat
                               field 22), 0 unknown: a reused pid is not it */
    int64_t ramp_from;      /* ms, CLOCK_MONOTONIC: the target answered */
};

struct hu_shm_waiter {
    int32_t tid;            /* 0: free */
    int32_t pid;
    uint32_t slot;
    uint32_t pad;
    int64_t since;          /* ms, CLOCK_MONOTONIC */
};

struct hu_shm {
    uint64_t magic;
    uint32_t version;
    uint32_t size;          /* sizeof(struct hu_shm) */
    uint32_t nslots, nwaiters;
    uint32_t failing;       /* slots in HU_SLOT_FAILING: the fast path's read */
    uint32_t pad;
    int64_t created_ms;
    uint64_t budget_refused;
    struct hu_shm_bucket budget[HU_SHM_WINDOW];
    struct hu_shm_slot slots[HU_SHM_SLOTS];
    struct hu_shm_waiter waiters[HU_SHM_WAITERS];
};

/* The path to use: HOSTUP_SHARED (unless secure), else the default.
 * Returns 0 with the path in buf, 1 when turned off (HOSTUP_SHARED=off). */
int hu_shm_path(char *buf, size_t len, int secure);
/* Open (creating it if missing, unless readonly) and map the file.
 * Refuses a symlink, a file of another uid, a mode that lets group or
 * others in, a file not wholly allocated (a sparse or short file would
 * kill the program with SIGBUS when memory runs out), and a header of
 * another layout; the default path also a directory that is not the
 * user's own (mode 0700).  A new file is allocated in full before it is
 * linked into place.  Returns the map, or NULL with a static reason in
 * *why. */
struct hu_shm *hu_shm_open(const char *path, int readonly, const char **why);
void hu_shm_close(struct hu_shm *m);
/* The file was used now: its mtime says so (what pruning goes by). */
void hu_shm_touch(const char *path);
/* Remove the default directory's files (and old-layout /dev/shm files of
 * this uid) that no process used for max_age_s seconds, but keep.  When
 * only_unmapped, files no process maps (any age; /proc/PID/maps), for
 * `hostup status --prune`.  Calls report(name) for each removed; returns
 * how many. */
int hu_shm_prune(const char *keep, long max_age_s, int only_unmapped, void (*report)(const char *));

/* Is the process alive?  0: known dead; 1: alive or cannot tell. */
int hu_shm_alive(int32_t pid, int32_t tid);
/* pid's start time (/proc/PID/stat field 22, clock ticks since boot), 0
 * when unknown. */
uint64_t hu_shm_start_time(int32_t pid);
/* Does the lease of slot s belong to a live holder at now?  pidns: ours;
 * across pid namespaces only its expiry counts.  A lease further ahead
 * than HU_LEASE_MAX_MS, or whose holder made no try for that long, has
 * lapsed; a holder whose start time differs from the one recorded is
 * another process with a reused pid. */
int hu_shm_lease_alive(const struct hu_shm_slot *s, int64_t now, uint64_t pidns);
/* Sum of the budget window at second `sec`: first tries and retries. */
void hu_shm_window(const struct hu_shm *m, int64_t sec, uint64_t *first, uint64_t *retries);
/* Retries still allowed now under (pct, min_per_s); pct < 0: unlimited (-1). */
long hu_shm_budget_left(const struct hu_shm *m, int64_t now_ms, int pct, unsigned min_per_s);
/* Live waiters of slot i (threads) and distinct processes among them. */
void hu_shm_waiting(const struct hu_shm *m, unsigned slot, unsigned *threads, unsigned *procs);
/* "198.18.0.2:8080" or "[fd00::1]:443" */
void hu_shm_target(const struct hu_shm_slot *s, char *buf, size_t len);
int64_t hu_shm_now_ms(void);

#endif
