/* SPDX-License-Identifier: MIT */
/* /proc/self/mountinfo parsing and lookups (see mounts.h).
 *
 * A line (proc(5)):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   id parent maj:min root point mount-options [optional fields...] - fstype source super-options
 * Spaces, tabs, newlines and backslashes inside fields are written as
 * octal escapes (\040 \011 \012 \134). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mounts.h"

void hu_mountinfo_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
            r += 4;
        } else
            *w++ = *r++;
    }
    *w = '\0';
}

/* Next space-separated field, NUL-terminated in place; NULL at the end. */
static char *field(char **p)
{
    char *s = *p;
    while (*s == ' ')
        s++;
    if (!*s || *s == '\n')
        return NULL;
    char *e = s;
    while (*e && *e != ' ' && *e != '\n')
        e++;
    if (*e)
        *e++ = '\0';
    *p = e;
    return s;
}

int hu_mountinfo_parse_line(char *line, hu_mount *m)
{
    char *p = line, *f;
    memset(m, 0, sizeof *m);
    if (!field(&p) || !field(&p))           /* mount id, parent id */ /* NOLINT(misc-redundant-expression): two fields, side effects */
        return -1;
    if (!(f = field(&p)) || sscanf(f, "%u:%u", &m->major, &m->minor) != 2)
        return -1;
    char *root = field(&p), *point = field(&p), *mopts = field(&p);
    if (!root || !point || !mopts)
        return -1;
    while ((f = field(&p)) && strcmp(f, "-") != 0)
        ;                                   /* optional fields: shared:N ... */
    if (!f)
        return -1;
    char *fstype = field(&p), *source = field(&p), *sopts = field(&p);
    if (!fstype || !source)
        return -1;
    hu_mountinfo_unescape(root);
    hu_mountinfo_unescape(point);
    hu_mountinfo_unescape(source);
    hu_mountinfo_unescape(fstype);
    if (sopts)
        hu_mountinfo_unescape(sopts);
    else
        sopts = (char *)"";     /* a literal: must not go through unescape's write */
    if (point[0] != '/')
        return -1;
    m->root = root;
    m->point = point;
    m->mount_options = mopts;
    m->fstype = fstype;
    m->source = source;
    m->options = sopts;
    m->network = hu_fstype_is_network(fstype);
    return 0;
}

hu_mounts *hu_mounts_parse(const char *text, size_t len)
{
    hu_mounts *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->text = malloc(len + 1);
    if (!t->text) {
        free(t);
        return NULL;
    }
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += t->text[i] == '\n';
    t->m = calloc(lines, sizeof *t->m);
    if (!t->m) {
        hu_mounts_free(t);
        return NULL;
    }
    char *save = NULL;
    for (char *ln = strtok_r(t->text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
        if (hu_mountinfo_parse_line(ln, &t->m[t->n]) == 0) {
            t->any_network |= t->m[t->n].network;
            t->n++;
        }
    }
    return t;
}

void hu_mounts_free(hu_mounts *t)
{
    if (!t)
        return;
    free(t->m);
    free(t->text);
    free(t);
}

const hu_mount *hu_mounts_by_dev(const hu_mounts *t, unsigned major, unsigned minor)
{
    for (size_t i = t->n; i-- > 0;)
        if (t->m[i].major == major && t->m[i].minor == minor)
            return &t->m[i];
    return NULL;
}

const hu_mount *hu_mounts_by_path(const hu_mounts *t, const char *path)
{
    const hu_mount *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *mp = t->m[i].point;
        size_t n = strlen(mp);
        if (n == 1 && mp[0] == '/')
            n = 0;                          /* "/" is a prefix of every path */
        else if (strncmp(path, mp, n) != 0 || (path[n] != '\0' && path[n] != '/'))
            continue;
        if (!best || n >= best_len) {       /* later entries are mounted on top */
            best = &t->m[i];
            best_len = n;
        }
    }
    return best;
}

int hu_fstype_is_fuse(const char *fstype)
{
    return strcmp(fstype, "fuse") == 0 || strncmp(fstype, "fuse.", 5) == 0 ||
           strcmp(fstype, "fuseblk") == 0;
}

int hu_fstype_is_network(const char *fstype)
{
    /* kernel clients, then FUSE daemons that talk to a server (arrays, not
     * pointers: no relocation each for the loader in every exec) */
    static const char names[][24] = {
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs",
        "lustre", "beegfs", "gpfs", "orangefs", "pvfs2", "ocfs2", "gfs2", "coda", "ncpfs",
        "davfs", "fuse.sshfs", "fuse.glusterfs", "fuse.ceph-fuse", "fuse.ceph",
        "fuse.s3fs", "fuse.rclone", "fuse.gcsfuse", "fuse.goofys", "fuse.juicefs",
        "fuse.davfs2", "fuse.lizardfs", "fuse.moosefs", "fuse.mfs", "fuse.seaweedfs",
        "fuse.cvmfs2", "fuse.curlftpfs", "fuse.smbnetfs", "fuse.blobfuse", "fuse.blobfuse2",
        "fuse.mountpoint-s3", "fuse.alluxio-fuse", "fuse.objectivefs", "",
    };
    for (int i = 0; names[i][0]; i++)
        if (strcmp(fstype, names[i]) == 0)
            return 1;
    return 0;
}

int hu_option_get(const char *options, const char *name, char *val, size_t len)
{
    size_t nl = strlen(name);
    for (const char *p = options; p && *p;) {
        const char *end = strchr(p, ',');
        size_t tl = end ? (size_t)(end - p) : strlen(p);
        if (tl >= nl && strncmp(p, name, nl) == 0 && (tl == nl || p[nl] == '=')) {
            if (val && len) {
                size_t vl = tl == nl ? 0 : tl - nl - 1;
                if (vl >= len)
                    vl = len - 1;
                memcpy(val, p + nl + (tl == nl ? 0 : 1), vl);
                val[vl] = '\0';
            }
            return 1;
        }
        p = end ? end + 1 : NULL;
    }
    return 0;
}

long hu_mount_soft_nfs_timeo_ms(const char *fstype, const char *options)
{
    char v[16];
    if (!fstype || (strcmp(fstype, "nfs") != 0 && strcmp(fstype, "nfs4") != 0) ||
        !hu_option_get(options, "soft", NULL, 0))
        return -1;
    if (!hu_option_get(options, "timeo", v, sizeof v))
        return 0;
    long ds = strtol(v, NULL, 10);      /* tenths of a second */
    return ds > 0 && ds < 1000000 ? ds * 100 : 0;
}

static int copy_out(const char *s, size_t n, char *host, size_t len)
{
    if (n == 0 || n >= len)
        return 0;
    memcpy(host, s, n);
    host[n] = '\0';
    return 1;
}

int hu_mount_server(const char *fstype, const char *source, char *host, size_t len)
{
    const char *s = source;
    (void)fstype;
    if (s[0] == '/' && s[1] == '/') {              /* //host/share (cifs, smb3) */
        s += 2;
        return copy_out(s, strcspn(s, "/"), host, len);
    }
    if (strncmp(s, "sshfs#", 6) == 0)               /* old fuse "sshfs#user@host:" */
        s += 6;
    const char *at = strchr(s, '@'), *colon;
    if (at && (!strchr(s, ':') || at < strchr(s, ':')))
        s = at + 1;                                 /* user@host:dir */
    if (s[0] == '[') {                              /* [fd00::1]:/export */
        const char *close = strchr(s, ']');
        return close ? copy_out(s + 1, (size_t)(close - s - 1), host, len) : 0;
    }
    colon = strchr(s, ':');
    if (!colon)
        return 0;
    size_t n = (size_t)(colon - s);
    size_t comma = strcspn(s, ",");                 /* ceph: mon1,mon2:6789:/ */
    if (comma < n)
        n = comma;
    return copy_out(s, n, host, len);
}

size_t hu_path_normalize(const char *in, char *out, size_t len)
{
    if (in[0] != '/' || len < 2)
        return 0;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;                                /* the slash before it */
        } else {
            if (o + 1 + n + 1 > len)
                return 0;
            out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    return o;
}
