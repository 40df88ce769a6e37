/* SPDX-License-Identifier: MIT */
/* hostup run as the program's parent: starts it (supervised when it can),
 * serves the trapped connects, and is the program's init: it reaps every
 * descendant (a subreaper; PID 1 in a container), forwards the signals a
 * container or a terminal sends, and exits with the program's status.
 *
 * Signals: those below are blocked and read from a signalfd, then sent to
 * the program's process (tini's default, not its process group); a signal
 * the kernel sent (SI_KERNEL: a terminal's ^C or resize, which already
 * reached the program in the same foreground group) is not sent twice.
 * The program dies with SIGKILL if this process dies (PR_SET_PDEATHSIG):
 * its trapped connects would otherwise fail with ENOSYS. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "engine/herd.h"
#include "engine/retry.h"
#include "hostup/hostup.h"
#include "supervise.h"
#include "sv.h"

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
                                SIGCONT, SIGALRM};

const hu_policy *sv_load_policy(void);

static void signal_set(sigset_t *set)
{
    sigemptyset(set);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(set, forwarded[i]);
    sigaddset(set, SIGCHLD);
}

/* In the child: back to the signal state the program would have had. */
static void child_start(char **argv, const sigset_t *old, int sock, int supervise)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (sock >= 0) {
        if (supervise)
            sv_child_setup(sock);
        else
            close(sock);
    }
    sigprocmask(SIG_SETMASK, old, NULL);
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
    int e = errno;
    fprintf(stderr, "hostup: %s: %s\n", argv[0], strerror(e));
    _exit(e == ENOENT ? 127 : 126);
}

static int status_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
}

/* Reap every child that ended; 1 once none is left. */
static int reap(struct sv *s, int *code, int *child_done)
{
    for (;;) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p == s->child) {
            *code = status_code(st);
            *child_done = 1;
        }
        if (p < 0 && errno == ECHILD)
            return 1;
        if (p <= 0)
            return 0;
    }
}

/* Forward what came; 1 if a child ended (SIGCHLD) */
static int on_signal(struct sv *s, int sfd)
{
    struct signalfd_siginfo si;
    int chld = 0;
    while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            chld = 1;
        else if (si.ssi_code != SI_KERNEL || si.ssi_signo == SIGTERM)
            kill(s->child, (int)si.ssi_signo);
        /* else the terminal sent it to the program's group too */
    }
    return chld;
}

/* Until the program and every descendant left to us have ended.  The
 * listener is the receiver thread's (recv.c); here only when it has none. */
static int serve(struct sv *s, int sfd, int receive_here)
{
    int code = 1, child_done = 0, none_left = reap(s, &code, &child_done);
    struct seccomp_notif *n = receive_here ? malloc(s->notif_size) : NULL;
    for (;;) {
        /* as PID 1 the program's end is the container's: the kernel ends
         * the rest.  Elsewhere orphans are ours to serve until they end. */
        if (none_left || (child_done && getpid() == 1))
            break;
        struct pollfd p[2] = {{sfd, POLLIN, 0}, {n ? s->listener : -1, POLLIN, 0}};
        if (poll(p, 2, -1) < 0)
            continue;
        if (p[0].revents && on_signal(s, sfd))
            none_left = reap(s, &code, &child_done);
        if (p[1].revents & POLLIN)
            sv_recv_one(s, n);
        else if (p[1].revents & (POLLHUP | POLLERR)) {
            free(n);    /* nobody under the filter is left */
            n = NULL;
        }
    }
    free(n);
    return code;
}

static void say(const struct hu_sv_opts *o, const char *prog, const char *what)
{
    if (o->verbose)
        fprintf(stderr, "hostup: %s: %s\n", prog, what);
}

int hu_sv_run(char **argv, const struct hu_sv_opts *o)
{
    struct sv s = {.listener = -1, .verbose = o->verbose};
    char why[256] = "";
    int supervise = o->supervise && sv_kernel_ok(why, sizeof why) == 0;
    sigset_t set, old;
    signal_set(&set);
    int sv_pair[2] = {-1, -1};
    if (supervise && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv_pair) != 0)
        supervise = 0;
    sigprocmask(SIG_BLOCK, &set, &old);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t pid = sfd >= 0 ? fork() : -1;
    if (pid == 0)
        child_start(argv, &old, sv_pair[1], supervise);
    if (pid < 0) {      /* no parent to be: the program runs in our place */
        sigprocmask(SIG_SETMASK, &old, NULL);
        child_start(argv, &old, -1, 0);
    }
    signal(SIGPIPE, SIG_IGN);   /* a closed log must not end the supervisor */
    s.child = pid;
    if (supervise) {
        close(sv_pair[1]);
        s.listener = sv_parent_receive(sv_pair[0], &s, why, sizeof why);
        close(sv_pair[0]);
        if (s.listener >= 0 && sv_notify_init(&s) != 0) {
            snprintf(why, sizeof why, "seccomp(GET_NOTIF_SIZES) failed: %s", strerror(errno));
            close(s.listener);
            s.listener = -1;
        }
    }
    if (o->supervise && s.listener < 0) {
        sv_load_policy();   /* configures the records */
        sv_record_unsupervised(argv[0], why);
        say(o, argv[0], "runs unsupervised (see the record)");
    } else if (s.listener >= 0) {
        s.policy = sv_load_policy();
        if (getenv("HOSTUP_SUPERVISE_ADDFD"))   /* tests: Docker's way here */
            s.addfd = 1;
        hu_herd_map();
        char line[320];
        snprintf(line, sizeof line, "supervised (%s): connects held with seccomp user notification%s",
                 o->why ? o->why : "--supervise", s.addfd ? ", ADDFD way" : "");
        say(o, argv[0], line);
    }
    int receive_here = s.listener >= 0 && sv_receiver_start(&s) != 0;
    return serve(&s, sfd, receive_here);
}
