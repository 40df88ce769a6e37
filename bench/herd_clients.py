#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real event-loop clients for the herd bench (bench/herd.sh, HERD_SET=real).

    herd_clients.py KIND N ADDR PORT START_NS DEADLINE_S

N separate processes, each one client of KIND, all starting at START_NS
(CLOCK_REALTIME ns); each connects once, non-blocking, the way people run
them:
  py    python's socket.create_connection((ADDR, PORT), timeout=40)
        (O_NONBLOCK + poll inside CPython)
  node  node's http.get (libuv: O_NONBLOCK + epoll); the connect is the
        socket's 'connect' event.  Each node stays up HERD_NODE_HOLD_MS
        (default 3000) after it, so that the exit of one (tens of ms of CPU)
        does not delay the others' callbacks on a 2-core machine; 0 exits at
        once, as this bench did before.  Before the start each makes one
        request to a loopback listener of its own (node compiles its
        connect path then, not in the measured callback).
  curl  curl --connect-timeout 40 (O_NONBLOCK + poll); connected when its
        %{time_connect} is set; it ends at once then (the server closes),
        so the connect's moment is curl's exit
The server (`herd serve`) accepts and closes, so the HTTP clients fail after
connecting: only the connect counts.  Writes one line per client, as
`herd client` does: "id ok start_ns end_ns tries errno tcp_state" (tries: 1,
the client's own connect; tcp_state: -).
"""
import errno
import os
import socket
import subprocess
import sys
import time

NODE = r"""
const [addr, port, startNs, id, hold] = process.argv.slice(1);
const HOLD_MS = Number(hold);
const http = require('http');
const now = () => BigInt(Date.now()) * 1000000n;
// Warm-up: one request to a listener of our own on loopback first, so that
// node compiles its connect and http code now, not in the measured
// callback, where 100 processes compiling at once on 2 cores would wait
// for each other.
const warm = http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1', () => {
  http.get({host: '127.0.0.1', port: warm.address().port, path: '/'}, r => {
    r.resume();
    r.on('end', () => warm.close());
  });
});
setTimeout(() => {
  const t0 = now();
  let done = false;
  const out = (ok, e) => {
    if (done) return;
    done = true;
    process.stdout.write(`${id} ${ok} ${t0} ${now()} 1 ${e} -\n`);
    setTimeout(() => process.exit(0), HOLD_MS);
  };
  const req = http.get({host: addr, port: Number(port), path: '/', timeout: 40000});
  // connected: the request is not sent (the server would only close it),
  // so no client spends CPU that the others' callbacks wait for
  req.on('socket', s => s.on('connect', () => { out(1, '-'); req.destroy(); }));
  req.on('error', e => out(0, e.code || 'error'));
  req.on('timeout', () => out(0, 'ETIMEDOUT'));
}, Math.max(0, Number(BigInt(startNs) / 1000000n) - Date.now()));
"""


NODE_HOLD_MS = int(os.environ.get("HERD_NODE_HOLD_MS", "3000"))


def wait_until(ns):
    left = (ns - time.time_ns()) / 1e9
    if left > 0:
        time.sleep(left)


def py_client(i, addr, port, start):
    wait_until(start)
    t0 = time.time_ns()
    try:
        socket.create_connection((addr, port), timeout=40).close()
        return "%d 1 %d %d 1 - -" % (i, t0, time.time_ns())
    except OSError as e:
        return "%d 0 %d %d 1 %s -" % (i, t0, time.time_ns(), errno.errorcode.get(e.errno or 0, "error"))


def curl_client(i, addr, port, start):
    wait_until(start)
    t0 = time.time_ns()
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--connect-timeout", "40", "-w", "%{time_connect}",
                        "http://%s:%d/" % (addr, port)], stdout=subprocess.PIPE, check=False)
    t1 = time.time_ns()
    if float(r.stdout.decode() or 0) > 0:
        return "%d 1 %d %d 1 - -" % (i, t0, t1)
    return "%d 0 %d %d 1 curl%d -" % (i, t0, t1, r.returncode)


def main():
    kind, n, addr, port, start = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    pids = []
    for i in range(n):
        pid = os.fork()
        if pid:
            pids.append(pid)
            continue
        if kind == "node":
            os.execvp("node", ["node", "-e", NODE, addr, str(port), str(start), str(i), str(NODE_HOLD_MS)])
        line = (py_client if kind == "py" else curl_client)(i, addr, port, start)
        os.write(1, (line + "\n").encode())
        os._exit(0)
    for pid in pids:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
