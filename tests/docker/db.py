#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The database stand-in of the Docker tests: answers every connection's
first line with "db-ok" on port 5432.  --listen-after S: the container runs
but listens only after S seconds, as a database that is still starting."""
import signal
import socket
import sys
import time

serving = False


def term(*_):
    """docker stop: finish the request in hand, as a database's smart
    shutdown does, then exit (PID 1 has no default action for SIGTERM)."""
    global stopping
    stopping = True
    if not serving:
        sys.exit(0)


stopping = False
signal.signal(signal.SIGTERM, term)
delay = float(sys.argv[sys.argv.index("--listen-after") + 1]) if "--listen-after" in sys.argv else 0
time.sleep(delay)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5432))
s.listen(64)
print(f"db: listening after {delay:g} s", flush=True)
while not stopping:
    c, _ = s.accept()
    serving = True
    try:
        c.settimeout(5)
        c.recv(64)
        c.sendall(b"db-ok\n")
    except OSError:
        pass
    c.close()
    serving = False
