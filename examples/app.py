#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in application for the recipes: it talks to its database "db"
over TCP, as a real client would, and knows nothing of hostup.

Environment: DB_HOST (db), DB_PORT (5432), REQUESTS (1), INTERVAL (0.5 s
between requests), TIMEOUT (10 s: the connect timeout), RESOLVE=each (look the name up for every request, as a
script does) or RESOLVE=once (look it up at start and keep the address, as
a connection pool, nginx's upstream or Java's DNS cache does).  Each request
sends "ping" and prints the reply line; any failure ends the program with a
traceback and exit status 1."""
import os
import socket
import time

host = os.environ.get("DB_HOST", "db")
port = int(os.environ.get("DB_PORT", "5432"))
requests = int(os.environ.get("REQUESTS", "1"))
interval = float(os.environ.get("INTERVAL", "0.5"))
timeout = float(os.environ.get("TIMEOUT", "10"))
target = (host, port)
if os.environ.get("RESOLVE", "each") == "once":
    target = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]
    print(f"app: {host} is {target[0]}", flush=True)

for i in range(1, requests + 1):
    start = time.monotonic()
    # with a timeout: a non-blocking connect and poll(), as most clients do
    with socket.create_connection(target, timeout=timeout) as s:
        s.sendall(b"ping\n")
        reply = s.makefile().readline().strip()
    print(f"app: request {i}: {reply} in {time.monotonic() - start:.2f} s", flush=True)
    if i < requests:
        time.sleep(interval)
