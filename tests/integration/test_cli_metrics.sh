#!/bin/bash
# SPDX-License-Identifier: MIT
# hostup metrics and status as a careful user meets them (issue 19):
# - --listen serves scrapes while a client sends its request a byte every
#   1.5 s, drops that client when its 2 s are up, and still lets a scrape
#   in when more idle clients than it has places are connected;
# - --textfile never replaces a symbolic link or a device with a regular
#   file (a scratch link to /proc/self/fd/1 stands for /dev/stdout), and
#   follows a link to a regular file;
# - status --json shows a u64 counter above INT64_MAX as that number.
# Root: the server listens in a private network namespace.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
hu_net_setup
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H"

# --- --listen: a slow client does not hold up scrapes ----------------------
hu_c "$H" metrics --listen 127.0.0.1:9464 --file "$HU_TMP/none.shm" 2>"$HU_TMP/listen.log" &
hu__track $!
hu__wait_line "$HU_TMP/listen.log" "serving metrics" "hostup metrics --listen"
# one byte of a request every 1.5 s; prints how long until the server hung up
hu_c "$HU_PY" -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 9464)); t0 = time.monotonic()
try:
    for b in b"GET /metrics HTTP/1.0\r\n\r\n":
        s.send(bytes([b])); time.sleep(1.5)
        s.setblocking(False)
        try:
            if s.recv(1) == b"": break
        except BlockingIOError: pass
        s.setblocking(True)
except OSError: pass
print("%d" % ((time.monotonic() - t0) * 1000))
' >"$HU_TMP/slow.out" 2>&1 &
hu__track $!
SLOW=$!
sleep 0.3
for i in 1 2 3; do
	t0=$(date +%s%N)
	out=$(hu_c curl -sS --noproxy '*' --max-time 1.5 http://127.0.0.1:9464/metrics 2>&1)
	hu_assert_contains "$out" "hostup_shared_up 0" "scrape $i while a client sends a byte every 1.5 s"
	hu_assert_lt $((($(date +%s%N) - t0) / 1000000)) 1000 "scrape $i answered within 1 s"
	sleep 0.7
done
wait "$SLOW"
ms=$(cat "$HU_TMP/slow.out")
hu_assert_lt "$ms" 4000 "the slow client is dropped when its 2 s are up (after ${ms} ms, a byte every 1.5 s)"
# more idle connections than the server has places: the newest still gets in
hu_c "$HU_PY" -c '
import socket, time
ss = [socket.create_connection(("127.0.0.1", 9464)) for _ in range(40)]
time.sleep(3)
' &
hu__track $!
sleep 0.5
out=$(hu_c curl -sS --noproxy '*' --max-time 1.5 http://127.0.0.1:9464/metrics 2>&1)
hu_assert_contains "$out" "hostup_shared_up 0" "a scrape gets in past 40 idle connections"
code=$(hu_c curl -s --noproxy '*' --max-time 1.5 -o /dev/null -w '%{http_code}' http://127.0.0.1:9464/other)
hu_assert_eq 404 "$code" "other paths are 404"

# --- --textfile: only a regular file is replaced ---------------------------
T=$HU_TMP/tf
mkdir -p "$T"
ln -s /proc/self/fd/1 "$T/stdout"
"$H" metrics --textfile "$T/stdout" --file "$HU_TMP/none.shm" 2>"$T/err" | cat >/dev/null; rc=${PIPESTATUS[0]}
out=$(cat "$T/err")
hu_assert_eq 73 "$rc" "--textfile on a link to stdout (a pipe): refused, exit 73"
[[ -L $T/stdout && $(readlink "$T/stdout") == /proc/self/fd/1 ]] || hu_fail "the link to stdout was replaced"
hu_ok "the link to stdout is still that link"
hu_assert_contains "$out" "is a symbolic link to a pipe" "refusal says what the target is"
ln -s /dev/null "$T/null"
"$H" metrics --textfile "$T/null" --file "$HU_TMP/none.shm" 2>/dev/null
hu_assert_eq 73 "$?" "--textfile on a link to /dev/null: refused"
[[ -L $T/null && -c /dev/null ]] || hu_fail "the link to /dev/null or /dev/null itself was replaced"
hu_ok "the link to /dev/null and /dev/null are untouched"
mkfifo "$T/fifo"
out=$("$H" metrics --textfile "$T/fifo" --file "$HU_TMP/none.shm" 2>&1)
hu_assert_eq 73 "$?" "--textfile on a FIFO: refused"
hu_assert_contains "$out" "is a pipe; not replaced" "refusal names the pipe"
[[ -p $T/fifo ]] || hu_fail "the FIFO was replaced"
echo old >"$T/real.prom"
ln -s real.prom "$T/link.prom"
"$H" metrics --textfile "$T/link.prom" --file "$HU_TMP/none.shm" || hu_fail "--textfile through a link to a file"
[[ -L $T/link.prom ]] || hu_fail "the link to a regular file was replaced"
hu_assert_contains "$(cat "$T/real.prom")" "hostup_shared_up 0" "--textfile through a link: its file written, the link kept"
"$H" metrics --textfile "$T/new.prom" --file "$HU_TMP/none.shm" || hu_fail "--textfile new file"
hu_assert_contains "$(cat "$T/new.prom")" "hostup_shared_up 0" "--textfile: a new file"
hu_assert_eq 0 "$(find "$T" -name '*.tmp.*' | wc -l)" "--textfile: no temporary file left"

# --- status --json: u64 counters as the numbers they are ------------------
S=$HU_TMP/u64.shm
HOSTUP_SHARED=$S HOSTUP_LOG=off LD_PRELOAD=$HU_PRELOAD \
	HOSTUP_POLICY="* retry_on=+ECONNREFUSED attempts=2 backoff=10ms..20ms" \
	"$HU_PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
[[ -f $S ]] || hu_fail "the library made no shared file at $S"
# struct hu_shm: budget_refused at byte 40; slots (272 bytes) from byte 208,
# key at +0, tries at +96 (core/shared.h)
"$HU_PY" - "$S" <<'EOF' || hu_fail "patching $S"
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(40); f.write(struct.pack("<Q", 2**64 - 1))
    for i in range(256):
        f.seek(208 + i * 272); key, = struct.unpack("<Q", f.read(8))
        if key:
            f.seek(208 + i * 272 + 96); f.write(struct.pack("<Q", 2**63)); break
    else:
        sys.exit("no slot in use")
EOF
out=$("$H" status --json --file "$S") || hu_fail "status --json: $out"
hu_assert_eq "18446744073709551615 9223372036854775808" \
	"$("$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["budget"]["refused"], d["targets"][0]["tries"])' <<<"$out")" \
	"status --json: u64 counters above INT64_MAX as those numbers"
hu_assert_contains "$("$H" status --file "$S")" "refused by the budget" "status table reads the same file"
hu_assert_contains "$("$H" status --file "$S")" "18446744073709551615 refused" "status table: the same number"
hu_done
