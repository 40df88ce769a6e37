/* SPDX-License-Identifier: MIT */
/* hu_volread MODE FILE: read FILE one way and write exactly the bytes read
 * to stdout, so a test can compare hashes: a byte skipped or repeated
 * anywhere shows.  Exit 1 with "hu_volread: MODE: strerror" on a failure.
 *   read     read() in 64 KiB pieces
 *   pread    pread() of 64 KiB blocks at explicit offsets, in a scrambled
 *            order, written out in file order
 *   fread    fopen + fread(buf, 1, 65536)
 *   fread7   fread(buf, 7, 1000): items that straddle the failure point
 *            (a last partial item is lost, as fread does: use a file
 *            whose size is a multiple of 7)
 *   fgets    fopen + fgets into a 200-byte buffer
 *   getline  fopen + getline
 *   getc     fopen + getc
 *   mixed    one FILE, readers in turn: fgets(100), fread(777), getline,
 *            getc, fgetc, getc_unlocked
 *   rw       open O_RDWR, read() to the end, then write "APPENDED\n" there
 *            (the write must reach the file even if the fd was reopened)
 *   flags    open O_CLOEXEC, set O_NONBLOCK, dup the fd, read() to the end
 *            through the dup, then print on stderr whether the fd still has
 *            FD_CLOEXEC and O_NONBLOCK and whether both fds share one offset */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mode;

static void die(void)
{
    fprintf(stderr, "hu_volread: %s: %s\n", mode, strerror(errno));
    exit(1);
}

static void out(const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, stdout) != n)
        die();
}

static FILE *xfopen(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        die();
    return f;
}

int main(int argc, char **argv)
{
    static char buf[1 << 16];
    if (argc != 3) {
        fprintf(stderr, "usage: hu_volread MODE FILE\n");
        return 2;
    }
    mode = argv[1];
    const char *path = argv[2];

    if (!strcmp(mode, "read") || !strcmp(mode, "rw")) {
        int fd = open(path, !strcmp(mode, "rw") ? O_RDWR : O_RDONLY);
        if (fd < 0)
            die();
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            out(buf, (size_t)n);
        if (n < 0)
            die();
        if (!strcmp(mode, "rw") && write(fd, "APPENDED\n", 9) != 9)
            die();
        if (close(fd) < 0)
            die();
    } else if (!strcmp(mode, "flags")) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
            die();
        int fd2 = dup(fd);
        ssize_t n;
        while ((n = read(fd2, buf, sizeof buf)) > 0)
            out(buf, (size_t)n);
        if (n < 0)
            die();
        int fdfl = fcntl(fd, F_GETFD), fl = fcntl(fd, F_GETFL);
        off_t a = lseek(fd, 0, SEEK_CUR), b = lseek(fd2, 0, SEEK_CUR);
        fprintf(stderr, "cloexec=%d nonblock=%d shared_offset=%d\n", !!(fdfl & FD_CLOEXEC),
                !!(fl & O_NONBLOCK), a == b);
    } else if (!strcmp(mode, "pread")) {
        int fd = open(path, O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
            die();
        size_t blk = sizeof buf, nb = (size_t)(st.st_size + blk - 1) / blk;
        char *all = malloc((size_t)st.st_size + 1);
        if (!all)
            die();
        for (size_t i = 0; i < nb; i++) {
            size_t b = (i * 7919) % nb;     /* a permutation when nb is not a multiple of 7919 */
            off_t off = (off_t)(b * blk);
            size_t want = off + (off_t)blk > st.st_size ? (size_t)(st.st_size - off) : blk;
            size_t got = 0;
            while (got < want) {
                ssize_t n = pread(fd, all + off + got, want - got, off + (off_t)got);
                if (n < 0)
                    die();
                if (n == 0)
                    break;
                got += (size_t)n;
            }
        }
        out(all, (size_t)st.st_size);
        free(all);
        close(fd);
    } else if (!strcmp(mode, "fread") || !strcmp(mode, "fread7")) {
        FILE *f = xfopen(path);
        size_t n, size = !strcmp(mode, "fread7") ? 7 : 1, count = size == 7 ? 1000 : sizeof buf;
        while ((n = fread(buf, size, count, f)) > 0)
            out(buf, n * size);
        if (ferror(f))
            die();
        fclose(f);
    } else if (!strcmp(mode, "fgets")) {
        FILE *f = xfopen(path);
        char line[200];
        while (fgets(line, sizeof line, f))
            out(line, strlen(line));
        if (ferror(f))
            die();
        fclose(f);
    } else if (!strcmp(mode, "getline")) {
        FILE *f = xfopen(path);
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) > 0)
            out(line, (size_t)n);
        if (ferror(f))
            die();
        free(line);
        fclose(f);
    } else if (!strcmp(mode, "getc")) {
        FILE *f = xfopen(path);
        int c;
        while ((c = getc(f)) != EOF)
            putchar(c);
        if (ferror(f))
            die();
        fclose(f);
    } else if (!strcmp(mode, "getchar")) {
        /* stdin itself on the volume: getchar reads the program's stdin */
        if (!freopen(path, "r", stdin))
            die();
        int c;
        while ((c = getchar()) != EOF)
            putchar(c);
        if (ferror(stdin))
            die();
    } else if (!strcmp(mode, "mixed")) {
        FILE *f = xfopen(path);
        char *line = NULL;
        size_t cap = 0;
        for (unsigned turn = 0;; turn++) {
            int c;
            ssize_t n;
            switch (turn % 6) {
            case 0:
                if (!fgets(buf, 100, f))
                    goto end;
                out(buf, strlen(buf));
                break;
            case 1:
                n = (ssize_t)fread(buf, 1, 777, f);
                out(buf, (size_t)n);
                if (n < 777)
                    goto end;
                break;
            case 2:
                if ((n = getline(&line, &cap, f)) <= 0)
                    goto end;
                out(line, (size_t)n);
                break;
            case 3:
                if ((c = getc(f)) == EOF)
                    goto end;
                putchar(c);
                break;
            case 4:
                if ((c = fgetc(f)) == EOF)
                    goto end;
                putchar(c);
                break;
            default:
                if ((c = getc_unlocked(f)) == EOF)
                    goto end;
                putchar(c);
                break;
            }
        }
    end:
        if (ferror(f))
            die();
        free(line);
        fclose(f);
    } else {
        fprintf(stderr, "hu_volread: unknown mode %s\n", mode);
        return 2;
    }
    if (fflush(stdout) != 0)
        die();
    return 0;
}
