/* SPDX-License-Identifier: MIT */
/* What hostup status and hostup metrics share (status.c): their options,
 * the shared file as they open it, and one target's view of it. */
#ifndef HOSTUP_CLI_STATUS_H
#define HOSTUP_CLI_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "hostup/policy.h"
#include "core/shared.h"

struct sopts {
    const char *file, *listen, *textfile;
    int json, watch, prune;
    double every;
};

/* One target as shown: a copy of its slot (the file changes under us) and
 * what follows from it. */
struct view {
    char target[64];
    const char *state;
    int prober;
    unsigned waiting, procs;
    struct hu_shm_slot s;
    long budget_left;           /* -1: no budget */
    long failing_ms;
};

/* The file: --file, else where the library would look from here; NULL with
 * *why when it cannot be read.  path gets its name either way. */
struct hu_shm *hu_status_open(const struct sopts *o, char *path, size_t len, const char **why);
/* Slot i of m as seen at now, with p's budget numbers for its target. */
void hu_status_view(const struct hu_shm *m, unsigned i, const hu_policy *p, int64_t now, struct view *v);
/* cmd's options (argv[2] on), and the policy whose budget numbers apply to
 * each target (the environment's, as the library would read it), for body;
 * its exit status, or that of --help or a usage error. */
int hu_status_with_policy(int argc, char **argv, const char *cmd,
                          int (*body)(const struct sopts *o, const hu_policy *p));

#endif
