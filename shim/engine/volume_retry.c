/* SPDX-License-Identifier: MIT */
/* Network volumes: the recovery of a failed call (see volume.h).  The
 * retry decision is the engine's (decide.h), as for connects; what is
 * the volumes' own: reopening a stale handle (ESTALE) and the records,
 * with the mount and the diagnosis. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide.h"
#include "fdtable.h"
#include "herd.h"
#include "hostup/hostup.h"
#include "retry.h"
#include "sys/real.h"
#include "core/mounts.h"
#include "core/log.h"
#include "sys/sysio.h"
#include "volume.h"

/* ---- records -------------------------------------------------------- */

static void vol_log(hu_vol_try *t, const char *event, int err, long delay, const hu_vol_facts *facts)
{
    if (!hu_log_enabled())
        return;
    int64_t now = hu_now_ms();
    hu_event ev = {.event = event, .op = t->op, .err = err, .attempt = t->a.attempt,
                   .attempts = t->rule->attempts, .delay_ms = delay,
                   .elapsed_ms = (long)(now - t->a.t0), .rule = t->rule, .backtrace = 1,
                   .path = t->path, .fd = t->fd, .offset = t->offset};
    if (t->mnt) {
        ev.mount_point = t->mnt->point;
        ev.mount_fstype = t->mnt->fstype;
        ev.mount_source = t->mnt->source;
        ev.mount_options = t->mnt->options;
    }
    /* a reopen is told every time: storm folding would hide it */
    if (!(facts && facts->reopen == HU_REOPEN_OK) && (ev.suppressed = hu_log_admit(&ev)) < 0)
        return;
    if (err) {
        hu_vol_facts f = {0};
        if (facts)
            f = *facts;
        f.err = err;
        f.op = t->op;
        f.path = t->path;
        f.try_ms = (long)(now - t->a.try_start);
        if (t->mnt) {
            f.fstype = t->mnt->fstype;
            f.source = t->mnt->source;
            f.options = t->mnt->options;
            f.point = t->mnt->point;
        }
        ev.diagnosis = hu_diagnose_volume(&f);
    }
    hu_log_event(&ev);
}

/* ---- recovery ------------------------------------------------------- */

#define REPLACED (-2)

/* Reopen t->file by path and put the new description under every fd that
 * shared the old one.  0, REPLACED, or the errno of the failure. */
static int reopen(hu_vol_try *t, hu_vol_facts *facts)
{
    hu_file *f = t->file;
    int err = 0;
    pthread_mutex_lock(&f->mu);
    off_t off = lseek(t->fd, 0, SEEK_CUR);
    if (off < 0) {
        err = errno;
        goto done;
    }
    int fl = hu_real.fcntl(t->fd, F_GETFL);
    int nfd = hu_real.openat(AT_FDCWD, f->path, (f->flags & ~(O_CREAT | O_TRUNC | O_EXCL)) | O_CLOEXEC, 0);
    if (nfd < 0) {
        err = errno;
        goto done;
    }
    struct stat st;
    static __thread char why[160];
    if (hu_sys_fstat(nfd, &st) < 0) {
        err = errno;
        goto close_new;
    }
    facts->old_ino = (long long)f->ino;
    facts->new_ino = (long long)st.st_ino;
    int readonly = (f->flags & O_ACCMODE) == O_RDONLY;
    why[0] = '\0';
    if (st.st_ino != f->ino)
        snprintf(why, sizeof why, "inode %llu -> %llu", (unsigned long long)f->ino,
                 (unsigned long long)st.st_ino);
    else if (readonly && st.st_size != f->size)
        snprintf(why, sizeof why, "size %lld -> %lld", (long long)f->size, (long long)st.st_size);
    else if (readonly && (st.st_mtim.tv_sec != f->mtime.tv_sec || st.st_mtim.tv_nsec != f->mtime.tv_nsec))
        snprintf(why, sizeof why, "modification time changed");
    if (why[0]) {
        facts->replaced = why;
        err = REPLACED;
        goto close_new;
    }
    if (lseek(nfd, off, SEEK_SET) != off) {
        err = errno ? errno : EIO;
        goto close_new;
    }
    if (fl >= 0)
        hu_real.fcntl(nfd, F_SETFL, fl);
    hu_table_lock();
    int done_any = 0;
    for (int i = 0; i < f->nfds; i++) {
        int fd2 = f->fds[i];
        hu_fdent *e = hu_fd_get(fd2);
        if (!e || e->file != f)
            continue;
        if (hu_fd_other_file(fd2, f->dev, f->ino)) {  /* never dup3 over another file */
            hu_vol_forget_fd(fd2);
            i--;                    /* the last fd moved into slot i */
            continue;
        }
        int fdfl = hu_real.fcntl(fd2, F_GETFD);
        if (hu_real.dup3(nfd, fd2, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) >= 0)
            done_any |= fd2 == t->fd;
    }
    hu_table_unlock();
    if (!done_any)
        err = EBADF;        /* the program closed it meanwhile */
    else
        f->reopens++;
    t->offset = off;
close_new:
    hu_real.close(nfd);
done:
    pthread_mutex_unlock(&f->mu);
    return err;
}

/* ESTALE: reopen the file.  0: reopened, try again now (*err and the
 * facts say what was done); 1: the reopen failed with an errno the rule
 * retries, go on to the decision with ESTALE; -1: the failure goes to the
 * program (errno set, record written). */
static int repair(hu_vol_try *t, int *err, hu_vol_facts *facts)
{
    int rc = reopen(t, facts);
    if (rc == 0) {
        facts->reopen = HU_REOPEN_OK;
        vol_log(t, HOSTUP_EV_RETRY, ESTALE, 0, facts);
        t->stale = 0;
        hu_decide_again(&t->a, hu_now_ms());
        return 0;
    }
    /* a different file is never spliced in; a closed fd has nothing to
     * recover */
    int final = rc == REPLACED || rc == EBADF;
    facts->reopen = rc == REPLACED ? HU_REOPEN_REPLACED : HU_REOPEN_FAILED;
    facts->reopen_err = final ? EBADF : rc;
    if (!final) {
        t->stale = 1;
        *err = ESTALE;
    }
    if (final || !hu_rule_retries_errno(t->rule, rc)) {
        vol_log(t, HOSTUP_EV_GAVE_UP, ESTALE, -1, facts);
        errno = ESTALE;
        return -1;
    }
    return 1;
}

/* The rule's errnos, and a soft NFS mount's EIO after a slow try (volume.h). */
static int vol_retries(void *ctx, const hu_rule *r, int err)
{
    const hu_vol_try *t = ctx;
    return hu_vol_retries(r, t->mnt, t->a.attempt, hu_now_ms() - t->a.try_start, err);
}

int hu_vol_step(hu_vol_try *t, int err)
{
    /* volumes have no herd */
    hu_decide_ops o = {.ctx = t, .rng = hu_thread_rng, .retries = vol_retries};
    for (;;) {
        hu_vol_facts facts = {0};
        if (t->file && (err == ESTALE || t->stale) && hu_rule_retries_errno(t->rule, err)) {
            int rc = repair(t, &err, &facts);
            if (rc <= 0)
                return rc;
        }
        int64_t now = hu_now_ms();
        hu_action x;
        hu_decide_failed(&t->a, &o, err, 0, 0, now, &x);
        if (x.rec.event)
            vol_log(t, x.rec.event, x.rec.err, x.rec.delay_ms, facts.reopen ? &facts : NULL);
        if (x.kind == HU_DO_GIVE_UP) {
            errno = x.err;
            return -1;
        }
        if (hu_backoff_wait((unsigned)(x.until - now), 1) == EINTR) {
            errno = EINTR;
            return -1;
        }
        now = hu_now_ms();
        hu_decide_due(&t->a, &o, HU_HERD_TRY, now, &x);
        hu_decide_start(&t->a, now);
        if (!t->stale)
            return 0;
    }
}

void hu_vol_success(hu_vol_try *t)
{
    hu_decide_ops o = {.rng = hu_thread_rng};
    hu_action x;
    hu_decide_tried(&t->a, &o, 0, 0, hu_now_ms(), &x);
    if (x.rec.event)
        vol_log(t, x.rec.event, 0, -1, NULL);
}

int hu_vol_retry(hu_vol_try *t, int err, int (*again)(void *ctx), void *ctx)
{
    for (;;) {
        if (hu_vol_step(t, err) < 0)
            return -1;
        if (again(ctx) == 0) {
            hu_vol_success(t);
            return 0;
        }
        err = errno;
    }
}
