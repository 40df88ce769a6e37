/* SPDX-License-Identifier: MIT */
/*
 * hu_connect - minimal TCP client used by the integration tests.
 *
 *   hu_connect [-n] [-6] [-t MS] HOST PORT
 *
 * Resolves HOST with getaddrinfo, tries every address in order and prints the
 * first line the server sends. Failures are printed on stdout as
 * "error NAME" (errno or EAI_* name) so tests can compare strings; per-attempt
 * details and the elapsed time go to stderr.
 *   -n  non-blocking connect + poll + SO_ERROR (how most real clients do it)
 *   -6  AF_INET6 only (default AF_UNSPEC)
 *   -t  poll timeout for -n in ms (default: wait forever, like blocking mode)
 * Exit: 0 success, 1 failure, 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct timespec t0;

static long elapsed_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "EUNKNOWN";
}

static const char *gai_name(int rc)
{
	switch (rc) {
	case EAI_AGAIN: return "EAI_AGAIN";
	case EAI_NONAME: return "EAI_NONAME";
	case EAI_FAIL: return "EAI_FAIL";
	case EAI_NODATA: return "EAI_NODATA";
	case EAI_ADDRFAMILY: return "EAI_ADDRFAMILY";
	case EAI_FAMILY: return "EAI_FAMILY";
	case EAI_SERVICE: return "EAI_SERVICE";
	case EAI_SOCKTYPE: return "EAI_SOCKTYPE";
	case EAI_BADFLAGS: return "EAI_BADFLAGS";
	case EAI_MEMORY: return "EAI_MEMORY";
	case EAI_OVERFLOW: return "EAI_OVERFLOW";
	case EAI_SYSTEM: return "EAI_SYSTEM";
	default: return "EAI_UNKNOWN";
	}
}

static int finish(const char *result, int rc)
{
	printf("%s\n", result);
	fflush(stdout);
	fprintf(stderr, "elapsed_ms %ld\n", elapsed_ms());
	return rc;
}

/* Returns 0 when connected, else an errno value. */
static int try_connect(int fd, const struct addrinfo *ai, int nonblock, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0, n;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (!nonblock || errno != EINPROGRESS)
		return errno;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	if (n == 0)
		return ETIMEDOUT;
	/* revents is logged because it is what curl-like clients decide on */
	fprintf(stderr, "poll revents 0x%x\n", (unsigned)p.revents);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* Reads up to the first '\n' (or EOF). Returns 0 or an errno value. */
static int read_line(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t used = 0;

	while (used + 1 < size) {
		ssize_t r;
		int n = poll(&p, 1, 10000);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ETIMEDOUT;
		r = read(fd, buf + used, size - 1 - used);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return errno;
		if (r == 0)
			break;
		used += (size_t)r;
		if (memchr(buf, '\n', used))
			break;
	}
	buf[used] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int nonblock = 0, timeout_ms = -1, opt, rc, err = EADDRNOTAVAIL;
	char line[512], out[600];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((opt = getopt(argc, argv, "n6t:")) != -1) {
		switch (opt) {
		case 'n': nonblock = 1; break;
		case '6': hints.ai_family = AF_INET6; break;
		case 't': timeout_ms = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2)
		goto usage;

	rc = getaddrinfo(argv[optind], argv[optind + 1], &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(rc));
		snprintf(out, sizeof(out), "error %s", gai_name(rc));
		return finish(out, 1);
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char host[INET6_ADDRSTRLEN + 8] = "?";
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
				(nonblock ? SOCK_NONBLOCK : 0), ai->ai_protocol);

		getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
			    NI_NUMERICHOST);
		if (fd < 0) {
			err = errno;
			continue;
		}
		err = try_connect(fd, ai, nonblock, timeout_ms);
		fprintf(stderr, "connect %s: %s at %ld ms\n", host,
			err ? errname(err) : "ok", elapsed_ms());
		if (err == 0) {
			/* back to blocking semantics; read_line polls anyway */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			err = read_line(fd, line, sizeof(line));
			close(fd);
			freeaddrinfo(res);
			if (err) {
				snprintf(out, sizeof(out), "error %s", errname(err));
				return finish(out, 1);
			}
			if (line[0] == '\0')
				return finish("error EOF", 1);
			return finish(line, 0);
		}
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(out, sizeof(out), "error %s", errname(err));
	return finish(out, 1);
usage:
	fprintf(stderr, "usage: %s [-n] [-6] [-t MS] HOST PORT\n", argv[0]);
	return 2;
}
