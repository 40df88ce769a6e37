/* SPDX-License-Identifier: MIT */
/* One reader for the small files the library and the CLI look at
 * (/proc, /sys, resolv.conf, mountinfo, the config file): the whole file
 * into the caller's buffer, bounded, with raw system calls (sysio.h). */
#ifndef HOSTUP_SYS_READFILE_H
#define HOSTUP_SYS_READFILE_H

#include <sys/stat.h>
#include <sys/types.h>

/* flags */
#define HU_RF_REGULAR 1u    /* fstat first: only a regular file of at most size - 1 bytes */
#define HU_RF_LINES   2u    /* a file cut short ends after its last complete line */

/* Why a read failed (errno says more where the system said something). */
enum {
    HU_RF_OPEN = -1,        /* open failed */
    HU_RF_STAT = -2,        /* fstat failed (HU_RF_REGULAR) */
    HU_RF_NOTREG = -3,      /* not a regular file (HU_RF_REGULAR) */
    HU_RF_BIG = -4,         /* more than size - 1 bytes (HU_RF_REGULAR) */
    HU_RF_READ = -5,        /* read failed */
    HU_RF_TIME = -6,        /* not read in time (readfile_bounded.h) */
};

typedef struct {
    struct stat st;         /* the file's, when HU_RF_REGULAR got as far as fstat */
    int truncated;          /* the file had more than size - 1 bytes */
} hu_readfile_info;

/* Reads the file at path into buf, NUL-terminated, at most size - 1 bytes
 * (size >= 2), and returns how many; or one of the HU_RF_ codes.  Opened
 * O_NONBLOCK (a FIFO planted in place of the file must not hang us),
 * O_CLOEXEC and O_NOCTTY.  A file with more than fits is cut (HU_RF_LINES:
 * at its last newline) and info->truncated set; with HU_RF_REGULAR it is
 * refused instead.  info may be NULL. */
ssize_t hu_read_file(const char *path, unsigned flags, char *buf, size_t size,
                     hu_readfile_info *info);

#endif
