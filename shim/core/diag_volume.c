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

json_t *hu_diagnose_volume(const hu_vol_facts *f)
{
    char cause[512], next[600], server[256] = "";
    json_t *ev = json_object();
    int fuse = f->fstype && hu_fstype_is_fuse(f->fstype);
    int have_server = f->source && hu_mount_server(f->fstype ? f->fstype : "", f->source,
                                                   server, sizeof server);
    char addr[64];
    if (!have_server && f->options && hu_option_get(f->options, "addr", addr, sizeof addr) && addr[0]) {
        snprintf(server, sizeof server, "%s", addr);
        have_server = 1;
    }

    if (f->fstype)
        json_object_set_new(ev, "fstype", json_string(f->fstype));
    if (f->point)
        json_object_set_new(ev, "mount_point", json_string(f->point));
    if (have_server)
        json_object_set_new(ev, "server", json_string(server));
    /* the knobs that decide whether an outage is an error or a hang */
    static const char *const knobs[] = {"hard", "soft", "softerr", "timeo", "retrans", "vers",
                                        "proto", "addr", "echo_interval", "reconnect",
                                        "ServerAliveInterval", NULL};
    for (int i = 0; knobs[i]; i++)
        add_opt(ev, f->options, knobs[i]);
    json_object_set_new(ev, "try_ms", json_integer(f->try_ms));

    const char *what = f->fstype ? f->fstype : "the volume";
    if (f->point)
        snprintf(next, sizeof next, "findmnt -T %s", f->point);
    else
        snprintf(next, sizeof next, "findmnt -T %s", f->path ? f->path : "/");

    if (f->reopen == HU_REOPEN_REPLACED) {
        json_object_set_new(ev, "old_inode", json_integer(f->old_ino));
        json_object_set_new(ev, "new_inode", json_integer(f->new_ino));
        snprintf(cause, sizeof cause,
                 "file replaced: after a stale handle the path names a different file (%s); "
                 "not reopened, so two files are never spliced together",
                 f->replaced ? f->replaced : "changed");
        snprintf(next, sizeof next, "ls -li %s", f->path ? f->path : "");
    } else if (f->err == ESTALE && f->reopen == HU_REOPEN_OK) {
        json_object_set_new(ev, "old_inode", json_integer(f->old_ino));
        json_object_set_new(ev, "new_inode", json_integer(f->new_ino));
        snprintf(cause, sizeof cause,
                 "stale handle: reopened by path at the same offset; the server forgot the "
                 "file handle (restart, failover or a changed export)");
    } else if (f->err == ESTALE && f->reopen == HU_REOPEN_FAILED) {
        json_object_set_new(ev, "reopen_errno", json_string(errname(f->reopen_err)));
        int down = f->reopen_err == EHOSTDOWN || f->reopen_err == ETIMEDOUT ||
                   f->reopen_err == EHOSTUNREACH || f->reopen_err == EIO ||
                   f->reopen_err == ENOTCONN;
        snprintf(cause, sizeof cause, "stale handle: reopening by path failed with %s%s",
                 errname(f->reopen_err),
                 f->reopen_err == ENOENT ? ": the file is gone from the server"
                 : down ? (fuse && f->reopen_err == ENOTCONN ? ": volume daemon gone"
                                                             : ": server down")
                        : "");
    } else if (f->err == ESTALE) {
        snprintf(cause, sizeof cause,
                 "stale handle: the server no longer knows the handle of this path "
                 "(restart, failover or a changed export)");
    } else if (f->err == ENOTCONN && fuse) {
        snprintf(cause, sizeof cause,
                 "volume daemon gone: the FUSE daemon behind %s is not connected; the kernel "
                 "keeps the mount until it is unmounted and mounted again", what);
        snprintf(next, sizeof next, "fusermount3 -u %s and mount it again%s",
                 f->point ? f->point : "MOUNTPOINT",
                 strcmp(what, "fuse.sshfs") == 0 ? " (sshfs -o reconnect,ServerAliveInterval=15)" : "");
    } else {
        char soft[64] = "";
        if (f->options && (hu_option_get(f->options, "soft", NULL, 0) ||
                           hu_option_get(f->options, "softerr", NULL, 0)) &&
            (f->err == EIO || f->err == ETIMEDOUT))
            snprintf(soft, sizeof soft, " (a soft mount gives up after retrans x timeo)");
        snprintf(cause, sizeof cause, "server down: %s%s%s does not answer (%s)%s",
                 have_server ? "the file server " : "the server behind ",
                 have_server ? server : what, "", errname(f->err), soft);
        if (have_server) {
            if (f->fstype && strncmp(f->fstype, "nfs", 3) == 0)
                snprintf(next, sizeof next, "rpcinfo -t %s nfs", server);
            else if (f->fstype && (!strcmp(f->fstype, "cifs") || !strcmp(f->fstype, "smb3")))
                snprintf(next, sizeof next, "nc -vz %s 445", server);
            else if (f->fstype && !strcmp(f->fstype, "fuse.sshfs"))
                snprintf(next, sizeof next, "ssh %s true", server);
            else
                snprintf(next, sizeof next, "ping -c 3 %s", server);
        }
    }

    json_t *d = json_object();
    json_object_set_new(d, "layer", json_string("volume"));
    json_object_set_new(d, "cause", json_string(cause));
    json_object_set_new(d, "evidence", ev);
    json_object_set_new(d, "checklist", json_array());
    json_object_set_new(d, "next", json_string(next));
    return d;
}
