/* SPDX-License-Identifier: MIT */
/* Network volumes, the parts without side effects: /proc/self/mountinfo
 * parsing and lookups, which file system types count as network ones, and
 * the "volume" diagnosis.  Shared by the library, the CLI and the unit
 * tests; the cache and the wrappers live in volume.c. */
#ifndef HOSTUP_MOUNTS_H
#define HOSTUP_MOUNTS_H

#include <jansson.h>
#include <stddef.h>

typedef struct hu_mount {
    unsigned major, minor;      /* st_dev of files on it */
    const char *root;           /* root of the mount within its file system */
    const char *point;          /* mount point, unescaped */
    const char *mount_options;  /* per-mount: rw,nosuid,relatime */
    const char *fstype;         /* nfs4, cifs, fuse.sshfs, ... */
    const char *source;         /* server:/export, //host/share, user@host:dir */
    const char *options;        /* super options: hard,timeo=600,retrans=2,... */
    int network;                /* hu_fstype_is_network(fstype) */
} hu_mount;

/* Parse one line of mountinfo in place (fields are unescaped and
 * NUL-terminated inside line).  0 on success, -1 if it is malformed. */
int hu_mountinfo_parse_line(char *line, hu_mount *m);
/* \040 \011 \012 \134 -> space, tab, newline, backslash; in place. */
void hu_mountinfo_unescape(char *s);

/* A whole table: the text is copied, entries point into the copy. */
typedef struct hu_mounts {
    hu_mount *m;
    size_t n;
    char *text;
    int any_network;
} hu_mounts;
hu_mounts *hu_mounts_parse(const char *text, size_t len);
void hu_mounts_free(hu_mounts *t);
/* The mount a file with st_dev major:minor lives on (the last listed of
 * bind mounts of one file system), or NULL. */
const hu_mount *hu_mounts_by_dev(const hu_mounts *t, unsigned major, unsigned minor);
/* The mount whose point is the longest prefix of the absolute, normalised
 * path (a later mount over the same point wins), or NULL. */
const hu_mount *hu_mounts_by_path(const hu_mounts *t, const char *path);

int hu_fstype_is_network(const char *fstype);
int hu_fstype_is_fuse(const char *fstype);
/* Value of NAME in a comma-separated option list: 1 and the value (or ""
 * for a flag) copied into val, or 0 when absent. */
int hu_option_get(const char *options, const char *name, char *val, size_t len);
/* A soft nfs/nfs4 mount (not softerr, not hard), where EIO is how the
 * kernel says the server did not answer in timeo x retrans: its timeo in ms
 * (0 when not listed).  -1 for any other mount. */
long hu_mount_soft_nfs_timeo_ms(const char *fstype, const char *options);
/* The server's host name or address from a mount's source (and options:
 * NFS and CIFS also give addr=).  1 when found. */
int hu_mount_server(const char *fstype, const char *source, char *host, size_t len);
/* Lexical normalisation of an absolute path: "//a/./b/../c/" -> "/a/c".
 * Returns the length, or 0 when it does not fit or is not absolute. */
size_t hu_path_normalize(const char *in, char *out, size_t len);

/* What the volume diagnosis is built from. */
enum hu_reopen { HU_REOPEN_NONE, HU_REOPEN_OK, HU_REOPEN_FAILED, HU_REOPEN_REPLACED };
typedef struct hu_vol_facts {
    int err;                    /* errno of the failed try */
    const char *op;             /* read, open, stat, fgets, ... */
    const char *path;
    const char *fstype, *source, *options, *point;  /* NULL: mount unknown */
    enum hu_reopen reopen;
    int reopen_err;             /* HU_REOPEN_FAILED: why the reopen failed */
    const char *replaced;       /* HU_REOPEN_REPLACED: "inode 12 -> 34" */
    long long old_ino, new_ino;
    long try_ms;
} hu_vol_facts;

/* {layer: "volume", cause, evidence, checklist, next}.  The cause starts
 * with "server down", "stale handle: reopened", "stale handle",
 * "file replaced" or "volume daemon gone". */
json_t *hu_diagnose_volume(const hu_vol_facts *f);

#endif
