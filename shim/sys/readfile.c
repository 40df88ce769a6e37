/* SPDX-License-Identifier: MIT */
/* The small-file reader (readfile.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "readfile.h"
#include "sysio.h"

/* Reads that may be cut short: a file is read in at most this many. */
#define MAX_READS 64

/* Up to size - 1 bytes of fd into buf; then a one-byte read tells whether
 * there was more.  Bytes read, or -1 (errno) when a read failed first. */
static ssize_t read_all(int fd, char *buf, size_t size, int *more)
{
    size_t got = 0;
    *more = 0;
    for (int i = 0; i < MAX_READS && got < size - 1; i++) {
        ssize_t r = hu_sys_read(fd, buf + got, size - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && got == 0)
            return -1;
        if (r <= 0)
            return (ssize_t)got;
        got += (size_t)r;
    }
    char extra;
    ssize_t r;
    do
        r = hu_sys_read(fd, &extra, 1);
    while (r < 0 && errno == EINTR);
    *more = r > 0;
    return (ssize_t)got;
}

/* With HU_RF_REGULAR: 0 when fd is a regular file that fits, else the code. */
static int check_regular(int fd, size_t size, struct stat *st)
{
    if (hu_sys_fstat(fd, st) != 0)
        return HU_RF_STAT;
    if (!S_ISREG(st->st_mode))
        return HU_RF_NOTREG;
    if (st->st_size > (off_t)(size - 1))
        return HU_RF_BIG;
    return 0;
}

ssize_t hu_read_file(const char *path, unsigned flags, char *buf, size_t size,
                     hu_readfile_info *info)
{
    hu_readfile_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);
    int fd = hu_sys_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
    if (fd < 0)
        return HU_RF_OPEN;
    ssize_t n = (flags & HU_RF_REGULAR) ? check_regular(fd, size, &info->st) : 0;
    if (n == 0) {
        n = read_all(fd, buf, size, &info->truncated);
        if (n < 0)
            n = HU_RF_READ;
        else if (info->truncated && (flags & HU_RF_REGULAR))
            n = HU_RF_BIG;         /* it grew since the fstat */
    }
    int err = errno;
    hu_sys_close(fd);
    errno = err;
    if (n < 0)
        return n;
    buf[n] = '\0';
    if (info->truncated && (flags & HU_RF_LINES)) {
        char *nl = strrchr(buf, '\n');
        if (nl) {
            nl[1] = '\0';
            n = nl + 1 - buf;
        }
    }
    return n;
}
