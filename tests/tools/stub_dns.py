#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stub UDP DNS server for the hostup integration tests (stdlib only).

Answers A queries for --record names; during the first --drop-for /
--servfail-for / --nxdomain-for seconds after start it instead ignores the
query / answers SERVFAIL / answers NXDOMAIN for every name, which is how a
resolver looks while a compose service is starting. --records-file FILE holds
more NAME=IPV4 lines, read again at every query, so a test can move a name to
another address while the server runs (a recreated container). Logs queries
to stderr.
"""
import argparse
import socket
import struct
import sys
import time

A, AAAA, IN = 1, 28, 1
NOERROR, SERVFAIL, NXDOMAIN = 0, 2, 3


def norm(name):
    return name.lower().rstrip(".")


def parse_records(lines):
    records = {}
    for r in lines:
        name, _, ip = r.strip().partition("=")
        if not name:
            continue
        socket.inet_aton(ip)  # fail early on a bad address
        records[norm(name)] = ip
    return records


def read_records_file(path):
    try:
        with open(path, encoding="ascii") as f:
            return parse_records(f)
    except (OSError, ValueError) as e:
        print(f"stub_dns: {path}: {e}", file=sys.stderr, flush=True)
        return {}


def parse_question(msg):
    """Returns (qname, qtype, end offset of the question) or None."""
    if len(msg) < 12 or struct.unpack("!H", msg[4:6])[0] != 1:
        return None
    labels, pos = [], 12
    while pos < len(msg):
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n & 0xC0:  # compression never appears in a question; reject
            return None
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[pos:pos + 2])[0]
    return ".".join(labels), qtype, pos + 4


def build_reply(msg, qend, rcode, addr=None):
    qid, flags = struct.unpack("!HH", msg[:4])
    # QR, opcode and RD copied, AA and RA set
    flags = 0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode
    ancount = 1 if addr else 0
    out = struct.pack("!HHHHHH", qid, flags, 1, ancount, 0, 0) + msg[12:qend]
    if addr:
        # name as pointer to the question (offset 12), TTL 0: never cached
        out += struct.pack("!HHHIH", 0xC00C, A, IN, 0, 4) + socket.inet_aton(addr)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--addr", default="198.18.0.2")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--drop-for", type=float, default=0, help="no reply at all")
    ap.add_argument("--servfail-for", type=float, default=0)
    ap.add_argument("--nxdomain-for", type=float, default=0)
    ap.add_argument("--record", action="append", default=[], metavar="NAME=IPV4")
    ap.add_argument("--records-file", metavar="FILE", help="NAME=IPV4 lines, read at every query")
    args = ap.parse_args()
    fixed = parse_records(args.record)

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.addr, args.port))
    start = time.monotonic()
    print(f"stub_dns: ready on {args.addr}:{args.port}", file=sys.stderr, flush=True)
    while True:
        msg, peer = sock.recvfrom(4096)
        q = parse_question(msg)
        if q is None:
            continue
        qname, qtype, qend = q
        t = time.monotonic() - start
        records = dict(fixed)
        if args.records_file:
            records.update(read_records_file(args.records_file))
        addr = None
        if t < args.drop_for:
            verdict = "DROP"
        elif t < args.servfail_for:
            verdict, rcode = "SERVFAIL", SERVFAIL
        elif t < args.nxdomain_for or norm(qname) not in records:
            verdict, rcode = "NXDOMAIN", NXDOMAIN
        else:
            rcode = NOERROR
            addr = records[norm(qname)] if qtype == A else None
            verdict = f"A {addr}" if addr else "NOERROR (no data)"
        print(f"stub_dns: t={t:.2f} {qname} type {qtype} -> {verdict}",
              file=sys.stderr, flush=True)
        if verdict != "DROP":
            sock.sendto(build_reply(msg, qend, rcode, addr), peer)


if __name__ == "__main__":
    main()
