/* SPDX-License-Identifier: MIT */
/* Forced into the test tools of the musl build (make musl): what they use
 * from glibc that musl lacks.  No system header here: it comes before each
 * tool's _GNU_SOURCE. */
const char *strerrorname_np(int err);
