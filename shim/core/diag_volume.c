/* SPDX-License-Identifier: MIT */
/* The "volume" diagnosis: which of the three usual stories a file-call
 * failure on a network volume tells.
 *   server down          the server does not answer (EHOSTDOWN, ETIMEDOUT,
 *                        EHOSTUNREACH; EIO from a soft mount)
 *   stale handle         the server no longer knows the file handle the
 *                        client holds (restart, failover, export change);
 *                        "stale handle: reopened" once hostup reopened it
 *   volume daemon gone   ENOTCONN on a FUSE mount: the daemon (sshfs, ...)
 *                        exited or lost its session; the mount stays
 * Pure: built from the errno, the mount's line and what the reopen found. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostup/policy.h"
#include "mounts.h"

static void add_opt(json_t *ev, const char *options, const char *name)
{
    char v[64];
    if (options && hu_option_get(options, name, v, sizeof v))
        json_object_set_new(ev, name, v[0] ? json_string(v) : json_true());
}

static const char *errname(int e)
{
    const char *n = hu_errno_name(e);
    return n ? n : "?";
}

/* The file server: from the mount's source, else its addr= option. */
static int find_server(const hu_vol_facts *f, char *server, size_t len)
{
    if (f->source && hu_mount_server(f->fstype ? f->fstype : "", f->source, server, len))
        return 1;
    char addr[64];
    if (f->options && hu_option_get(f->options, "addr", addr, sizeof addr) && addr[0]) {
        snprintf(server, len, "%s", addr);
        return 1;
    }
    return 0;
}

/* The mount, its server, the options that decide whether an outage is an
 * error or a hang, the try's time. */
static json_t *volume_evidence(const hu_vol_facts *f, const char *server)
{
    json_t *ev = json_object();
    if (f->fstype)
        json_object_set_new(ev, "fstype", json_string(f->fstype));
    if (f->point)
        json_object_set_new(ev, "mount_point", json_string(f->point));
    if (server)
        json_object_set_new(ev, "server", json_string(server));
    static const char *const knobs[] = {"hard", "soft", "softerr", "timeo", "retrans", "vers",
                                        "proto", "addr", "echo_interval", "reconnect",
                                        "ServerAliveInterval", NULL};
    for (int i = 0; knobs[i]; i++)
        add_opt(ev, f->options, knobs[i]);
    json_object_set_new(ev, "try_ms", json_integer(f->try_ms));
    return ev;
}

static void inodes(json_t *ev, const hu_vol_facts *f)
{
    json_object_set_new(ev, "old_inode", json_integer(f->old_ino));
    json_object_set_new(ev, "new_inode", json_integer(f->new_ino));
}

/* A stale handle whose reopen by path failed too. */
static void reopen_failed(const hu_vol_facts *f, json_t *ev, char *cause, size_t len)
{
    int fuse = f->fstype && hu_fstype_is_fuse(f->fstype);
    json_object_set_new(ev, "reopen_errno", json_string(errname(f->reopen_err)));
    int down = f->reopen_err == EHOSTDOWN || f->reopen_err == ETIMEDOUT ||
               f->reopen_err == EHOSTUNREACH || f->reopen_err == EIO ||
               f->reopen_err == ENOTCONN;
    snprintf(cause, len, "stale handle: reopening by path failed with %s%s",
             errname(f->reopen_err),
             f->reopen_err == ENOENT ? ": the file is gone from the server"
             : down ? (fuse && f->reopen_err == ENOTCONN ? ": volume daemon gone"
                                                         : ": server down")
                    : "");
}

/* The server does not answer: the command that asks it directly. */
static void server_down(const hu_vol_facts *f, const char *server, char *cause, size_t clen,
                        char *next, size_t nlen)
{
    const char *what = f->fstype ? f->fstype : "the volume";
    char soft[64] = "";
    if (f->options && (hu_option_get(f->options, "soft", NULL, 0) ||
                       hu_option_get(f->options, "softerr", NULL, 0)) &&
        (f->err == EIO || f->err == ETIMEDOUT))
        snprintf(soft, sizeof soft, " (a soft mount gives up after retrans x timeo)");
    snprintf(cause, clen, "server down: %s%s%s does not answer (%s)%s",
             server ? "the file server " : "the server behind ",
             server ? server : what, "", errname(f->err), soft);
    if (!server)
        return;
    if (f->fstype && strncmp(f->fstype, "nfs", 3) == 0)
        snprintf(next, nlen, "rpcinfo -t %s nfs", server);
    else if (f->fstype && (!strcmp(f->fstype, "cifs") || !strcmp(f->fstype, "smb3")))
        snprintf(next, nlen, "nc -vz %s 445", server);
    else if (f->fstype && !strcmp(f->fstype, "fuse.sshfs"))
        snprintf(next, nlen, "ssh %s true", server);
    else
        snprintf(next, nlen, "ping -c 3 %s", server);
}

json_t *hu_diagnose_volume(const hu_vol_facts *f)
{
    char cause[512], next[600], server_buf[256] = "";
    const char *server = find_server(f, server_buf, sizeof server_buf) ? server_buf : NULL;
    json_t *ev = volume_evidence(f, server);
    const char *what = f->fstype ? f->fstype : "the volume";
    snprintf(next, sizeof next, "findmnt -T %s", f->point ? f->point : f->path ? f->path : "/");

    if (f->reopen == HU_REOPEN_REPLACED) {
        inodes(ev, f);
        snprintf(cause, sizeof cause,
                 "file replaced: after a stale handle the path names a different file (%s); "
                 "not reopened, so two files are never spliced together",
                 f->replaced ? f->replaced : "changed");
        snprintf(next, sizeof next, "ls -li %s", f->path ? f->path : "");
    } else if (f->err == ESTALE && f->reopen == HU_REOPEN_OK) {
        inodes(ev, f);
        snprintf(cause, sizeof cause,
                 "stale handle: reopened by path at the same offset; the server forgot the "
                 "file handle (restart, failover or a changed export)");
    } else if (f->err == ESTALE && f->reopen == HU_REOPEN_FAILED) {
        reopen_failed(f, ev, cause, sizeof cause);
    } else if (f->err == ESTALE) {
        snprintf(cause, sizeof cause,
                 "stale handle: the server no longer knows the handle of this path "
                 "(restart, failover or a changed export)");
    } else if (f->err == ENOTCONN && f->fstype && hu_fstype_is_fuse(f->fstype)) {
        snprintf(cause, sizeof cause,
                 "volume daemon gone: the FUSE daemon behind %s is not connected; the kernel "
                 "keeps the mount until it is unmounted and mounted again", what);
        snprintf(next, sizeof next, "fusermount3 -u %s and mount it again%s",
                 f->point ? f->point : "MOUNTPOINT",
                 strcmp(what, "fuse.sshfs") == 0 ? " (sshfs -o reconnect,ServerAliveInterval=15)" : "");
    } else
        server_down(f, server, cause, sizeof cause, next, sizeof next);

    json_t *d = json_object();
    json_object_set_new(d, "layer", json_string("volume"));
    json_object_set_new(d, "cause", json_string(cause));
    json_object_set_new(d, "evidence", ev);
    json_object_set_new(d, "checklist", json_array());
    json_object_set_new(d, "next", json_string(next));
    return d;
}
