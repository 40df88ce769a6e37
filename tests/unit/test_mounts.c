/* SPDX-License-Identifier: MIT */
/* mountinfo parsing, mount lookups, network types, option and server
 * extraction, path normalisation, and the volume diagnosis.
 *
 * Fixture lines: the overlay and fuse.sshfs lines were captured on this
 * project's test machine (/proc/self/mountinfo of a real overlay mount on a
 * directory with a space in its name, and of tests/tools/hu_flakyfs
 * mounted with subtype=sshfs).  The NFS and CIFS lines follow the kernel's
 * own output for such mounts (show_mountinfo() with nfs_show_options() and
 * cifs_show_options(), options in the order the kernel prints them), since
 * this kernel has no NFS or CIFS client to capture them from. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "core/mounts.h"
#include "suites.h"

static const char *const NFS4 =
    "412 27 0:55 / /mnt/data rw,relatime shared:220 - nfs4 fileserver.example.com:/export/data "
    "rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,"
    "sec=sys,clientaddr=10.0.0.12,local_lock=none,addr=10.0.0.5";
static const char *const NFS3_SOFT =
    "413 27 0:56 /srv /mnt/nfs\\040share rw,relatime shared:221 - nfs 10.0.0.5:/srv/nfs "
    "rw,vers=3,rsize=131072,wsize=131072,namlen=255,soft,proto=tcp,timeo=100,retrans=3,sec=sys,"
    "mountaddr=10.0.0.5,mountvers=3,mountport=20048,mountproto=udp,local_lock=none,addr=10.0.0.5";
static const char *const CIFS =
    "414 27 0:57 / /mnt/public rw,relatime shared:222 - cifs //nas.local/Public\\040Share "
    "rw,vers=3.1.1,cache=strict,username=guest,uid=0,noforceuid,gid=0,noforcegid,"
    "addr=192.168.1.20,file_mode=0755,dir_mode=0755,soft,nounix,serverino,mapposix,"
    "rsize=4194304,wsize=4194304,bsize=1048576,echo_interval=60,actimeo=1,closetimeo=1";
static const char *const SSHFS =
    "43 27 0:39 / /tmp/hufs/m rw,nosuid,nodev,relatime - fuse.sshfs tester@fileserver:/export "
    "rw,user_id=0,group_id=0";
static const char *const OVERLAY =
    "52 27 0:39 / /tmp/ov/merged\\040dir rw,relatime - overlay overlay "
    "rw,lowerdir=/tmp/ov/lower,upperdir=/tmp/ov/upper,workdir=/tmp/ov/work,uuid=on";
static const char *const ROOT = "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw";

static hu_mount parse(const char *line, char *buf, size_t len)
{
    hu_mount m;
    snprintf(buf, len, "%s", line);
    ck_assert_int_eq(hu_mountinfo_parse_line(buf, &m), 0);
    return m;
}

START_TEST(nfs4_line)
{
    char b[1024];
    hu_mount m = parse(NFS4, b, sizeof b);
    ck_assert_uint_eq(m.major, 0);
    ck_assert_uint_eq(m.minor, 55);
    ck_assert_str_eq(m.point, "/mnt/data");
    ck_assert_str_eq(m.root, "/");
    ck_assert_str_eq(m.mount_options, "rw,relatime");
    ck_assert_str_eq(m.fstype, "nfs4");
    ck_assert_str_eq(m.source, "fileserver.example.com:/export/data");
    ck_assert(strstr(m.options, "hard,proto=tcp,timeo=600,retrans=2") != NULL);
    ck_assert_int_eq(m.network, 1);
    char v[64];
    ck_assert_int_eq(hu_option_get(m.options, "timeo", v, sizeof v), 1);
    ck_assert_str_eq(v, "600");
    ck_assert_int_eq(hu_option_get(m.options, "retrans", v, sizeof v), 1);
    ck_assert_str_eq(v, "2");
    ck_assert_int_eq(hu_option_get(m.options, "hard", v, sizeof v), 1);
    ck_assert_str_eq(v, "");
    ck_assert_int_eq(hu_option_get(m.options, "soft", v, sizeof v), 0);
    ck_assert_int_eq(hu_option_get(m.options, "vers", v, 3), 1);
    ck_assert_str_eq(v, "4.");                  /* truncated to fit */
    ck_assert_int_eq(hu_mount_server(m.fstype, m.source, v, sizeof v), 1);
    ck_assert_str_eq(v, "fileserver.example.com");
}
END_TEST

/* where EIO means the server did not answer (engine/volume.c vol_retries);
 * the option lists are the real client's (tests/integration/test_nfs.sh) */
START_TEST(soft_nfs_timeo)
{
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("nfs", "rw,vers=3,rsize=131072,namlen=255,soft,nolock,"
                                                "proto=tcp,timeo=10,retrans=2,sec=sys"), 1000);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("nfs4", "rw,vers=4.2,soft,proto=tcp,timeo=600"), 60000);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("nfs", "rw,soft"), 0);
    /* softerr says ETIMEDOUT itself; hard never gives up */
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("nfs", "rw,vers=3,softerr,softreval,timeo=10"), -1);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("nfs", "rw,vers=3,hard,timeo=600"), -1);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("cifs", "rw,soft,echo_interval=60"), -1);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("fuse.sshfs", "soft"), -1);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms(NULL, "soft"), -1);
    ck_assert_int_eq(hu_mount_soft_nfs_timeo_ms("nfs", NULL), -1);
}
END_TEST

START_TEST(nfs3_escaped_space_and_root)
{
    char b[1024];
    hu_mount m = parse(NFS3_SOFT, b, sizeof b);
    ck_assert_str_eq(m.point, "/mnt/nfs share");
    ck_assert_str_eq(m.root, "/srv");
    ck_assert_str_eq(m.fstype, "nfs");
    ck_assert_int_eq(hu_option_get(m.options, "soft", NULL, 0), 1);
    ck_assert_int_eq(hu_option_get(m.options, "hard", NULL, 0), 0);
    /* "mountaddr=" must not answer for "addr" */
    char v[64];
    ck_assert_int_eq(hu_option_get(m.options, "addr", v, sizeof v), 1);
    ck_assert_str_eq(v, "10.0.0.5");
    ck_assert_int_eq(hu_mount_server(m.fstype, m.source, v, sizeof v), 1);
    ck_assert_str_eq(v, "10.0.0.5");
}
END_TEST

START_TEST(cifs_line)
{
    char b[1024];
    hu_mount m = parse(CIFS, b, sizeof b);
    ck_assert_str_eq(m.fstype, "cifs");
    ck_assert_str_eq(m.source, "//nas.local/Public Share");
    ck_assert_int_eq(m.network, 1);
    char v[64];
    ck_assert_int_eq(hu_mount_server(m.fstype, m.source, v, sizeof v), 1);
    ck_assert_str_eq(v, "nas.local");
    ck_assert_int_eq(hu_option_get(m.options, "echo_interval", v, sizeof v), 1);
    ck_assert_str_eq(v, "60");
}
END_TEST

START_TEST(sshfs_line)
{
    char b[1024];
    hu_mount m = parse(SSHFS, b, sizeof b);
    ck_assert_str_eq(m.fstype, "fuse.sshfs");
    ck_assert_int_eq(m.network, 1);
    ck_assert_int_eq(hu_fstype_is_fuse(m.fstype), 1);
    ck_assert_str_eq(m.mount_options, "rw,nosuid,nodev,relatime");
    char v[64];
    ck_assert_int_eq(hu_mount_server(m.fstype, m.source, v, sizeof v), 1);
    ck_assert_str_eq(v, "fileserver");
}
END_TEST

START_TEST(overlay_line)
{
    char b[1024];
    hu_mount m = parse(OVERLAY, b, sizeof b);
    ck_assert_str_eq(m.point, "/tmp/ov/merged dir");
    ck_assert_str_eq(m.fstype, "overlay");
    ck_assert_int_eq(m.network, 0);
    ck_assert_int_eq(hu_fstype_is_fuse(m.fstype), 0);
    char v[64];
    ck_assert_int_eq(hu_mount_server(m.fstype, m.source, v, sizeof v), 0);
}
END_TEST

START_TEST(escapes)
{
    char s[] = "/a\\040b\\011c\\012d\\134e\\08x\\";
    hu_mountinfo_unescape(s);
    ck_assert_str_eq(s, "/a b\tc\nd\\e\\08x\\");
    char line[] = "1 2 0:3 / /x\\040y rw shared:1 master:2 propagate_from:3 - tmpfs my\\040src rw\n";
    hu_mount m;
    ck_assert_int_eq(hu_mountinfo_parse_line(line, &m), 0);
    ck_assert_str_eq(m.point, "/x y");
    ck_assert_str_eq(m.source, "my src");
    ck_assert_str_eq(m.options, "rw");
}
END_TEST

START_TEST(malformed)
{
    static const char *const bad[] = {
        "", "1 2", "1 2 3 / /x rw - ext4 src rw",            /* no major:minor */
        "1 2 0:3 / /x rw ext4 src rw",                        /* no separator */
        "1 2 0:3 / /x rw -",                                  /* nothing after it */
        "1 2 0:3 / /x rw - ext4",                             /* no source */
        "1 2 0:3 / relative rw - ext4 src rw",                /* point not absolute */
        NULL,
    };
    for (int i = 0; bad[i]; i++) {
        char b[256];
        hu_mount m;
        snprintf(b, sizeof b, "%s", bad[i]);
        ck_assert_msg(hu_mountinfo_parse_line(b, &m) == -1, "accepted: %s", bad[i]);
    }
    /* no super options at all is still a mount */
    char ok[] = "1 2 0:3 / /x rw - ext4 src";
    hu_mount m;
    ck_assert_int_eq(hu_mountinfo_parse_line(ok, &m), 0);
    ck_assert_str_eq(m.options, "");
}
END_TEST

START_TEST(table_lookups)
{
    char text[4096];
    snprintf(text, sizeof text, "%s\n%s\n%s\ngarbage line\n%s\n%s\n%s\n"
             "415 412 0:55 /sub /mnt/data/sub rw - nfs4 fileserver.example.com:/export/data rw\n",
             ROOT, NFS4, NFS3_SOFT, CIFS, SSHFS, OVERLAY);
    hu_mounts *t = hu_mounts_parse(text, strlen(text));
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->n, 7);
    ck_assert_int_eq(t->any_network, 1);
    const hu_mount *m = hu_mounts_by_path(t, "/mnt/data/x/y");
    ck_assert_str_eq(m->point, "/mnt/data");
    ck_assert_str_eq(hu_mounts_by_path(t, "/mnt/data")->point, "/mnt/data");
    ck_assert_str_eq(hu_mounts_by_path(t, "/mnt/database")->point, "/");   /* not a prefix */
    ck_assert_str_eq(hu_mounts_by_path(t, "/mnt/data/sub/f")->point, "/mnt/data/sub");
    ck_assert_str_eq(hu_mounts_by_path(t, "/mnt/nfs share/f")->fstype, "nfs");
    ck_assert_str_eq(hu_mounts_by_path(t, "/etc/passwd")->fstype, "ext4");
    /* 0:39 is listed twice (a device number reused after an unmount): the
     * later line is the live one */
    ck_assert_str_eq(hu_mounts_by_dev(t, 0, 39)->fstype, "overlay");
    /* bind mounts of one file system share the device: the last one wins */
    ck_assert_str_eq(hu_mounts_by_dev(t, 0, 55)->point, "/mnt/data/sub");
    ck_assert_ptr_null(hu_mounts_by_dev(t, 9, 9));
    hu_mounts_free(t);

    hu_mounts *e = hu_mounts_parse("", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->n, 0);
    ck_assert_ptr_null(hu_mounts_by_path(e, "/"));
    hu_mounts_free(e);
}
END_TEST

START_TEST(over_mounted_point)
{
    const char *text = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
                       "2 1 0:40 / /mnt rw - nfs4 a:/x rw,hard\n"
                       "3 2 0:41 / /mnt rw - tmpfs tmpfs rw\n";
    hu_mounts *t = hu_mounts_parse(text, strlen(text));
    ck_assert_str_eq(hu_mounts_by_path(t, "/mnt/f")->fstype, "tmpfs");  /* on top */
    hu_mounts_free(t);
}
END_TEST

START_TEST(this_machine)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    if (!f)
        return;
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    hu_mounts *t = hu_mounts_parse(buf, n);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_gt(t->n, 0);
    ck_assert_ptr_nonnull(hu_mounts_by_path(t, "/"));
    hu_mounts_free(t);
}
END_TEST

START_TEST(network_types)
{
    static const char *const yes[] = {"nfs", "nfs4", "cifs", "smb3", "ceph", "glusterfs",
                                      "fuse.sshfs", "9p", "fuse.glusterfs", "fuse.s3fs", "afs",
                                      "lustre", "fuse.rclone", NULL};
    static const char *const no[] = {"ext4", "xfs", "overlay", "tmpfs", "fuse", "fuse.hu_flakyfs",
                                     "proc", "nfsd", "btrfs", "squashfs", "fuseblk", NULL};
    for (int i = 0; yes[i]; i++)
        ck_assert_msg(hu_fstype_is_network(yes[i]), "%s", yes[i]);
    for (int i = 0; no[i]; i++)
        ck_assert_msg(!hu_fstype_is_network(no[i]), "%s", no[i]);
}
END_TEST

START_TEST(servers)
{
    char h[64];
    ck_assert_int_eq(hu_mount_server("nfs4", "[fd00::5]:/export", h, sizeof h), 1);
    ck_assert_str_eq(h, "fd00::5");
    ck_assert_int_eq(hu_mount_server("ceph", "10.0.0.1,10.0.0.2:6789:/", h, sizeof h), 1);
    ck_assert_str_eq(h, "10.0.0.1");
    ck_assert_int_eq(hu_mount_server("fuse", "sshfs#me@box:/home", h, sizeof h), 1);
    ck_assert_str_eq(h, "box");
    ck_assert_int_eq(hu_mount_server("smb3", "//srv/share", h, sizeof h), 1);
    ck_assert_str_eq(h, "srv");
    ck_assert_int_eq(hu_mount_server("nfs", "/dev/sda1", h, sizeof h), 0);
    ck_assert_int_eq(hu_mount_server("nfs", "verylonghostname:/x", h, 4), 0);  /* no room */
}
END_TEST

START_TEST(normalize)
{
    char o[64];
    ck_assert_uint_eq(hu_path_normalize("//a/./b/../c/", o, sizeof o), 4);
    ck_assert_str_eq(o, "/a/c");
    ck_assert_uint_eq(hu_path_normalize("/../..", o, sizeof o), 1);
    ck_assert_str_eq(o, "/");
    ck_assert_uint_eq(hu_path_normalize("/mnt/data/", o, sizeof o), 9);
    ck_assert_str_eq(o, "/mnt/data");
    ck_assert_uint_eq(hu_path_normalize("relative/x", o, sizeof o), 0);
    ck_assert_uint_eq(hu_path_normalize("/abcdef", o, 4), 0);              /* does not fit */
}
END_TEST

static json_t *diag(hu_vol_facts *f, const char *line)
{
    static char b[1024];
    static hu_mount m;
    if (line) {
        m = parse(line, b, sizeof b);
        f->fstype = m.fstype;
        f->source = m.source;
        f->options = m.options;
        f->point = m.point;
    }
    return hu_diagnose_volume(f);
}

static const char *cause(json_t *d) { return json_string_value(json_object_get(d, "cause")); }

START_TEST(diagnosis_causes)
{
    hu_vol_facts f = {.err = EHOSTDOWN, .op = "read", .path = "/mnt/data/f"};
    json_t *d = diag(&f, NFS4);
    ck_assert_str_eq(json_string_value(json_object_get(d, "layer")), "volume");
    ck_assert(strncmp(cause(d), "server down", 11) == 0);
    json_t *ev = json_object_get(d, "evidence");
    ck_assert_str_eq(json_string_value(json_object_get(ev, "server")), "fileserver.example.com");
    ck_assert_str_eq(json_string_value(json_object_get(ev, "timeo")), "600");
    ck_assert(json_is_true(json_object_get(ev, "hard")));
    ck_assert_str_eq(json_string_value(json_object_get(d, "next")), "rpcinfo -t fileserver.example.com nfs");
    json_decref(d);

    f = (hu_vol_facts){.err = EIO, .op = "read"};
    d = diag(&f, NFS3_SOFT);
    ck_assert(strstr(cause(d), "soft mount") != NULL);
    json_decref(d);

    f = (hu_vol_facts){.err = ESTALE, .op = "read", .reopen = HU_REOPEN_OK, .old_ino = 5, .new_ino = 5};
    d = diag(&f, NFS4);
    ck_assert(strncmp(cause(d), "stale handle: reopened", 22) == 0);
    json_decref(d);

    f = (hu_vol_facts){.err = ESTALE, .op = "read", .reopen = HU_REOPEN_REPLACED,
                       .replaced = "inode 5 -> 9", .path = "/mnt/data/f"};
    d = diag(&f, NFS4);
    ck_assert(strncmp(cause(d), "file replaced", 13) == 0);
    ck_assert(strstr(cause(d), "inode 5 -> 9") != NULL);
    json_decref(d);

    f = (hu_vol_facts){.err = ESTALE, .op = "read", .reopen = HU_REOPEN_FAILED, .reopen_err = ETIMEDOUT};
    d = diag(&f, NFS4);
    ck_assert(strstr(cause(d), "server down") != NULL);
    json_decref(d);

    f = (hu_vol_facts){.err = ENOTCONN, .op = "read"};
    d = diag(&f, SSHFS);
    ck_assert(strncmp(cause(d), "volume daemon gone", 18) == 0);
    ck_assert(strstr(json_string_value(json_object_get(d, "next")), "fusermount3 -u /tmp/hufs/m") != NULL);
    json_decref(d);

    f = (hu_vol_facts){.err = ENOTCONN, .op = "read"};
    d = diag(&f, CIFS);     /* not FUSE: the server side */
    ck_assert(strncmp(cause(d), "server down", 11) == 0);
    json_decref(d);

    /* a path rule on a mount hostup does not know */
    f = (hu_vol_facts){.err = EHOSTDOWN, .op = "stat", .path = "/data/x"};
    d = diag(&f, NULL);
    ck_assert(strncmp(cause(d), "server down", 11) == 0);
    ck_assert_str_eq(json_string_value(json_object_get(d, "next")), "findmnt -T /data/x");
    json_decref(d);
}
END_TEST

Suite *mounts_suite(void)
{
    Suite *s = suite_create("mounts");
    TCase *tc = tcase_create("mountinfo");
    tcase_add_test(tc, nfs4_line);
    tcase_add_test(tc, nfs3_escaped_space_and_root);
    tcase_add_test(tc, soft_nfs_timeo);
    tcase_add_test(tc, cifs_line);
    tcase_add_test(tc, sshfs_line);
    tcase_add_test(tc, overlay_line);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, table_lookups);
    tcase_add_test(tc, over_mounted_point);
    tcase_add_test(tc, this_machine);
    tcase_add_test(tc, network_types);
    tcase_add_test(tc, servers);
    tcase_add_test(tc, normalize);
    tcase_add_test(tc, diagnosis_causes);
    suite_add_tcase(s, tc);
    return s;
}
