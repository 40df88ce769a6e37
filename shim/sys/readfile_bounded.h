/* SPDX-License-Identifier: MIT */
/* The small-file reader, bounded in time: for a file that may sit on a
 * network mount that no longer answers (HOSTUP_CONFIG), where open() or
 * read() can block in the kernel for minutes or for ever. */
#ifndef HOSTUP_SYS_READFILE_BOUNDED_H
#define HOSTUP_SYS_READFILE_BOUNDED_H

#include "readfile.h"

/* hu_read_file(), done by a child process; what it read arrives through a
 * pipe.  Gives up after timeout_ms and returns HU_RF_TIME: the child may
 * stay blocked in the kernel, but it shares nothing with the caller (no
 * memory, none of its descriptors, no signal handlers), so the program
 * goes on and can exit at once; the child ends when the file system
 * answers or a signal kills it.  A process, not a thread: a thread stuck
 * in a FUSE request holds up its whole process's exit.  timeout_ms 0, or
 * no child to be had (seccomp, a process limit): read here, unbounded.
 * Async-signal-safe in the child: raw system calls only. */
ssize_t hu_read_file_within(const char *path, unsigned flags, char *buf, size_t size,
                            hu_readfile_info *info, unsigned timeout_ms);

#endif
