/* SPDX-License-Identifier: MIT */
/* Programs that are hard on a preloaded library; test_hostile.sh runs them.
 *   hu_hostile churn N IP PORT EXPECT   N threads connect while 4 others open,
 *                                       dup2 and close fds (numbers reused)
 *   hu_hostile spawn IP DEADPORT LIVEPORT  fork, vfork+exec, posix_spawn and
 *                                       system() while a thread is in a retry
 *   hu_hostile sighandler restart|norestart IP DEADPORT LIVEPORT
 *                                       a SIGALRM handler calls read() and
 *                                       connect() while connect is retried
 *   hu_hostile logfd DATAFILE IP DEADPORT   dup2 a data file over the log fd
 *   hu_hostile closeall DATAFILE IP DEADPORT  close_range(3, ~0) after a record
 *   hu_hostile bigfd IP PORT EXPECT     a nonblocking connect moved to fd
 *                                       70000 (or the highest the hard limit
 *                                       allows), completed through poll
 *   hu_hostile dlopen LIB IP DEADPORT   dlopen LIB (already preloaded or not),
 *                                       then a failing connect
 * Each prints one result line and exits 0 when the program saw what it
 * should. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static struct sockaddr_in addr(const char *ip, const char *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static const char *ename(int e) { return e ? strerrorname_np(e) : "0"; }

/* connect + first line; returns 0 and fills buf, or the errno */
static int fetch(const char *ip, const char *port, char *buf, size_t len)
{
    struct sockaddr_in a = addr(ip, port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a), err = errno;
    if (rc != 0) {
        close(fd);
        return err;
    }
    ssize_t n = read(fd, buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
    return 0;
}

/* ---- churn ---- */
static const char *c_ip, *c_port, *c_want;
static int c_ok, c_done;
static pthread_mutex_t c_lock = PTHREAD_MUTEX_INITIALIZER;

static void *connector(void *arg)
{
    (void)arg;
    char buf[256];
    int rc = fetch(c_ip, c_port, buf, sizeof buf);
    pthread_mutex_lock(&c_lock);
    if (rc == 0 && strncmp(buf, c_want, strlen(c_want)) == 0)
        c_ok++;
    else
        fprintf(stderr, "connector: %s '%s'\n", ename(rc), rc ? "" : buf);
    pthread_mutex_unlock(&c_lock);
    return NULL;
}

static void *churner(void *arg)
{
    long i = 0, k = (long)(intptr_t)arg;
    while (!__atomic_load_n(&c_done, __ATOMIC_ACQUIRE)) {
        int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int c = k & 1 ? dup(a) : fcntl(b, F_DUPFD_CLOEXEC, 0);
        if (c >= 0 && (i & 3) == 0)
            dup2(a, c);          /* an fd number changes what it is */
        close(a);
        close(b);
        if (c >= 0)
            close(c);
        i++;
    }
    return (void *)i;
}

static int do_churn(int n, char **argv)
{
    c_ip = argv[0], c_port = argv[1], c_want = argv[2];
    pthread_t ch[4], *t = calloc((size_t)n, sizeof *t);
    for (long i = 0; i < 4; i++)
        pthread_create(&ch[i], NULL, churner, (void *)(intptr_t)i);
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, connector, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    __atomic_store_n(&c_done, 1, __ATOMIC_RELEASE);
    long cycles = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(ch[i], &r);
        cycles += (long)(intptr_t)r;
    }
    printf("ok %d/%d churn=%s\n", c_ok, n, cycles > 100 ? "yes" : "no");
    return c_ok == n ? 0 : 1;
}

/* ---- spawn while a retry runs ---- */
static void *retrying(void *arg)
{
    char **a = arg, buf[64];
    int rc = fetch(a[0], a[1], buf, sizeof buf);
    return (void *)(intptr_t)rc;
}

static int status_of(pid_t p)
{
    int st;
    if (p < 0 || waitpid(p, &st, 0) != p)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int do_spawn(char **argv)
{
    char *ta[2] = {argv[0], argv[1]};
    pthread_t t;
    pthread_create(&t, NULL, retrying, ta);
    usleep(400 * 1000);     /* the thread is inside the retry now */
    char buf[256] = "";
    pid_t p = fork();
    if (p == 0) {
        int rc = fetch(argv[0], argv[2], buf, sizeof buf);
        _exit(rc == 0 && buf[0] ? 0 : 3);
    }
    int fork_st = status_of(p);
    p = vfork();
    if (p == 0) {
        execl("/bin/sh", "sh", "-c", "exit 5", (char *)NULL);
        _exit(127);
    }
    int vfork_st = status_of(p);
    char *sargv[] = {"sh", "-c", "exit 6", NULL};
    pid_t sp;
    int spawn_st = posix_spawn(&sp, "/bin/sh", NULL, NULL, sargv, environ) == 0 ? status_of(sp) : -1;
    int sys = system("exit 7");
    int system_st = WIFEXITED(sys) ? WEXITSTATUS(sys) : -1;
    void *r;
    pthread_join(t, &r);
    int err = (int)(intptr_t)r;
    printf("fork=%d vfork=%d posix_spawn=%d system=%d thread=%s\n", fork_st, vfork_st, spawn_st,
           system_st, ename(err));
    return !(fork_st == 0 && vfork_st == 5 && spawn_st == 6 && system_st == 7);
}

/* ---- signal handlers that call read() and connect() ---- */
static int h_pipe[2];
static const char *h_ip, *h_live;
static volatile sig_atomic_t h_read, h_conn = -1;

static void handler(int sig)
{
    (void)sig;
    int saved = errno;
    char c;
    h_read = (int)read(h_pipe[0], &c, 1);
    struct sockaddr_in a = addr(h_ip, h_live);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    h_conn = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
    close(fd);
    errno = saved;
}

static int do_sighandler(char **argv)
{
    int restart = strcmp(argv[0], "restart") == 0;
    h_ip = argv[1], h_live = argv[3];
    if (pipe(h_pipe) != 0 || write(h_pipe[1], "x", 1) != 1)
        return 2;
    struct sigaction sa = {.sa_handler = handler, .sa_flags = restart ? SA_RESTART : 0};
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    struct sockaddr_in a = addr(argv[1], argv[2]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int err = rc ? errno : 0;
    printf("handler_read=%d handler_connect=%s connect=%s\n", (int)h_read,
           h_conn < 0 ? "not-run" : ename(h_conn), ename(err));
    return !(h_read == 1 && h_conn == 0);
}

/* ---- the log descriptor taken over by the program ---- */
static int log_fd_number(void)
{
    const char *want = getenv("HOSTUP_LOG");
    char p[64], t[4096];
    for (int fd = 3; fd < 1024; fd++) {
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n <= 0)
            continue;
        t[n] = '\0';
        if (want && strcmp(t, want) == 0)
            return fd;
    }
    return -1;
}

static int failing_connect(const char *ip, const char *port)
{
    struct sockaddr_in a = addr(ip, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a), err = rc ? errno : 0;
    close(fd);
    return err;
}

static int do_logfd(int closeall, char **argv)
{
    int e1 = failing_connect(argv[1], argv[2]);    /* a record: the log is open */
    int lfd = log_fd_number();
    int data;
    if (closeall) {
        syscall(SYS_close_range, 3U, ~0U, 0U);
        /* the program's next files take the numbers, the log's among them */
        int d = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        data = lfd >= 0 && d != lfd ? fcntl(d, F_DUPFD, lfd) : d;
        if (data != d)
            close(d);
    } else {
        int d = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
        data = lfd >= 0 ? dup2(d, lfd) : -1;
        close(d);
    }
    int e2 = failing_connect(argv[1], argv[2]);    /* a record after the takeover */
    const char line[] = "program data\n";
    ssize_t w = write(data, line, sizeof line - 1);
    printf("log_fd=%d data_fd=%d first=%s second=%s wrote=%zd\n", lfd, data, ename(e1), ename(e2), w);
    return !(lfd >= 0 && data == lfd && w == (ssize_t)sizeof line - 1);
}

/* ---- a connecting socket at fd 70000 ---- */
static int do_bigfd(char **argv)
{
    /* fd 70000 needs a hard limit above it; without CAP_SYS_RESOURCE (some
     * containers) the highest fd the hard limit allows is used instead */
    struct rlimit rl = {100000, 100000};
    int target = 70000;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_max < 70001)
            target = (int)rl.rlim_max - 1;
    }
    struct sockaddr_in a = addr(argv[0], argv[1]);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int rc = connect(s, (struct sockaddr *)&a, sizeof a);
    int err = rc ? errno : 0;
    int fd = dup2(s, target);
    close(s);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n = poll(&p, 1, 30000);
    int so = -1;
    socklen_t sl = sizeof so;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
    char buf[256] = "";
    if (so == 0) {
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
        ssize_t r = read(fd, buf, sizeof buf - 1);
        buf[r > 0 ? r : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
    }
    printf("connect=%s fd=%d poll=%d so_error=%s read='%s'\n", ename(err), fd, n, ename(so), buf);
    close(fd);
    return !(fd == target && so == 0 && strncmp(buf, argv[2], strlen(argv[2])) == 0);
}

/* ---- dlopen the library ---- */
static int do_dlopen(char **argv)
{
    void *h = dlopen(argv[0], RTLD_NOW | RTLD_GLOBAL);
    if (!h)
        fprintf(stderr, "dlopen: %s\n", dlerror());
    int err = failing_connect(argv[1], argv[2]);
    printf("dlopen=%s connect=%s\n", h ? "ok" : "failed", ename(err));
    return h ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "churn") == 0)
        return do_churn(atoi(argv[2]), argv + 3);
    if (argc >= 5 && strcmp(argv[1], "spawn") == 0)
        return do_spawn(argv + 2);
    if (argc >= 6 && strcmp(argv[1], "sighandler") == 0)
        return do_sighandler(argv + 2);
    if (argc >= 5 && strcmp(argv[1], "logfd") == 0)
        return do_logfd(0, argv + 2);
    if (argc >= 5 && strcmp(argv[1], "closeall") == 0)
        return do_logfd(1, argv + 2);
    if (argc >= 5 && strcmp(argv[1], "bigfd") == 0)
        return do_bigfd(argv + 2);
    if (argc >= 5 && strcmp(argv[1], "dlopen") == 0)
        return do_dlopen(argv + 2);
    fprintf(stderr, "usage: see the comment at the top of hu_hostile.c\n");
    return 2;
}
