/* SPDX-License-Identifier: MIT */
/*
 * hu_icmp_hostdown - answer TCP SYNs to PORT with ICMP "host unknown".
 *
 *   hu_icmp_hostdown PORT [IFNAME]
 *
 * Linux maps ICMP type 3 code 7 to EHOSTDOWN, and it is the only way to make
 * a Linux client see EHOSTDOWN; nftables cannot emit code 7, hence this tool.
 * SYNs are read from an AF_PACKET socket, which sees them before netfilter,
 * so the caller drops them in nftables to keep the kernel from sending a RST.
 * Runs until killed; prints one ready line on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* Returns the length of the offending bytes to quote, or 0 to ignore. */
static size_t match_syn(const uint8_t *pkt, size_t len, uint16_t port)
{
	const struct iphdr *ip = (const void *)pkt;
	const struct tcphdr *tcp;
	size_t ihl;

	if (len < sizeof(*ip) || ip->version != 4 || ip->protocol != IPPROTO_TCP)
		return 0;
	ihl = ip->ihl * 4u;
	if (ihl < 20 || len < ihl + sizeof(*tcp) || (ntohs(ip->frag_off) & 0x1fff))
		return 0;
	tcp = (const void *)(pkt + ihl);
	if (ntohs(tcp->dest) != port || !tcp->syn || tcp->ack)
		return 0;
	return ihl + 8; /* RFC 792: IP header + first 64 bits of the datagram */
}

static void reply(int raw, const uint8_t *pkt, size_t quote)
{
	const struct iphdr *orig = (const void *)pkt;
	uint8_t out[sizeof(struct iphdr) + 8 + 60 + 8];
	struct iphdr *ip = (void *)out;
	struct icmphdr *icmp = (void *)(out + sizeof(*ip));
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = orig->saddr };
	size_t icmp_len = sizeof(*icmp) + quote;

	memset(out, 0, sizeof(out));
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* what the kernel uses for its own ICMP errors */
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + icmp_len));
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = orig->daddr; /* answer as the host that was asked for */
	ip->daddr = orig->saddr;
	ip->check = csum(ip, sizeof(*ip));
	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_HOST_UNKNOWN;
	memcpy(out + sizeof(*ip) + sizeof(*icmp), pkt, quote);
	icmp->checksum = csum(icmp, icmp_len);
	if (sendto(raw, out, sizeof(*ip) + icmp_len, 0, (void *)&dst, sizeof(dst)) < 0)
		perror("hu_icmp_hostdown: sendto");
}

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP) };
	unsigned ifindex = 0;
	uint8_t pkt[65536];
	int pfd, raw;
	long port;

	if (argc < 2 || argc > 3 || (port = strtol(argv[1], NULL, 10)) <= 0 || port > 65535) {
		fprintf(stderr, "usage: %s PORT [IFNAME]\n", argv[0]);
		return 2;
	}
	if (argc == 3 && !(ifindex = if_nametoindex(argv[2]))) {
		fprintf(stderr, "hu_icmp_hostdown: no interface %s\n", argv[2]);
		return 2;
	}
	/* SOCK_DGRAM: the kernel strips the link header, we get the IP packet */
	pfd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	raw = socket(AF_INET, SOCK_RAW, IPPROTO_RAW); /* implies IP_HDRINCL */
	if (pfd < 0 || raw < 0) {
		perror("hu_icmp_hostdown: socket");
		return 1;
	}
	sll.sll_ifindex = (int)ifindex;
	if (ifindex && bind(pfd, (void *)&sll, sizeof(sll)) < 0) {
		perror("hu_icmp_hostdown: bind");
		return 1;
	}
	fprintf(stderr, "hu_icmp_hostdown: ready port %ld if %s\n", port,
		argc == 3 ? argv[2] : "any");
	for (;;) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(pfd, pkt, sizeof(pkt), 0, (void *)&from, &flen);
		size_t quote;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("hu_icmp_hostdown: recvfrom");
			return 1;
		}
		/* skip our own outgoing packets and strays seen before bind() */
		if (from.sll_pkttype == PACKET_OUTGOING ||
		    (ifindex && from.sll_ifindex != (int)ifindex))
			continue;
		quote = match_syn(pkt, (size_t)n, (uint16_t)port);
		if (quote)
			reply(raw, pkt, quote);
	}
}
