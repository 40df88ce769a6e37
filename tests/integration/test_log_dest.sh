#!/bin/bash
# SPDX-License-Identifier: MIT
# Log destinations never block the program, never kill it, and never write
# into its data (issue 19, hang 1 and corruption 4):
#   - HOSTUP_LOG naming a FIFO nobody reads: the program runs at once, one
#     log_error (ENXIO) on stderr, the records there; with a reader, the
#     records go to the FIFO.  A disk-like device (/dev/full) is refused.
#   - stderr a full pipe: the records are dropped, the program runs on, and
#     the next record written carries "dropped": N.
#   - fd:N a pipe whose reader left: no SIGPIPE for the program.
#   - the program closes fd 2 (close_range) and opens its data file there,
#     or dup2's a file over fd 2 or fd:N: no record lands in the file; when
#     it puts the old stderr back, records resume, counting what was dropped.
# No root needed: records come from a refused connect to 127.0.0.1 port 1
# with ECONNREFUSED made retryable.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
hu_need_tools hu_connect
hu_need_cmd timeout mkfifo
HU_TMP=$(mktemp -d /tmp/hostup-test.XXXXXX)
trap 'rm -rf "$HU_TMP"' EXIT
C=$HU_TOOLS/hu_connect
REC=$HU_ROOT/tests/integration/records.py
export HOSTUP_POLICY="* attempts=3 backoff=10ms..10ms retry_on=+ECONNREFUSED"
export HOSTUP_LOG_WINDOW=0
unset HOSTUP_CONFIG HOSTUP_LOG
field() { "$HU_PY" "$REC" "$1" --event "$2" --field "$3"; } # FILE EVENT FIELD
ms() { date +%s%3N; }

# --- a FIFO nobody reads: open(2) must not wait for a reader
mkfifo "$HU_TMP/fifo"
t0=$(ms)
out=$(LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=$HU_TMP/fifo timeout 20 "$C" 127.0.0.1 1 2>"$HU_TMP/fifo.err")
t=$(($(ms) - t0))
hu_assert_eq "error ECONNREFUSED" "$out" "FIFO without a reader: the program ran to its end"
hu_assert_lt "$t" 5000 "FIFO without a reader: at once (${t} ms), not blocked in open"
hu_assert_eq "ENXIO" "$(field "$HU_TMP/fifo.err" log_error errno)" "FIFO without a reader: log_error says ENXIO"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$("$HU_PY" "$REC" "$HU_TMP/fifo.err")" \
	"FIFO without a reader: the records went to stderr"
# with a reader, the FIFO gets them
cat "$HU_TMP/fifo" >"$HU_TMP/fifo.out" &
reader=$!
LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=$HU_TMP/fifo timeout 20 "$C" 127.0.0.1 1 >/dev/null 2>"$HU_TMP/fifo2.err"
wait "$reader"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$("$HU_PY" "$REC" "$HU_TMP/fifo.out")" \
	"FIFO with a reader: the records are there"
hu_assert_eq "" "$(grep '^{' "$HU_TMP/fifo2.err")" "FIFO with a reader: none on stderr"
# a device that is not a file, pipe, socket or terminal
LD_PRELOAD=$HU_PRELOAD HOSTUP_LOG=/dev/full "$C" 127.0.0.1 1 >/dev/null 2>"$HU_TMP/full.err"
hu_assert_eq "EINVAL" "$(field "$HU_TMP/full.err" log_error errno)" "/dev/full refused"
hu_assert_contains "$(field "$HU_TMP/full.err" log_error reason)" "records are not written there" \
	"/dev/full: the log_error says why"

# --- the program's own descriptors: a python that makes records on demand
cat >"$HU_TMP/prog.py" <<'EOF'
import os, socket, sys, time
def records():      # a refused connect, retried twice: three records
    s = socket.socket()
    s.connect_ex(("127.0.0.1", 1))
    s.close()
for step in sys.argv[1:]:
    if step == "rec":
        records()
    elif step == "wait":    # the parent has done its part
        print("ready", flush=True)
        sys.stdin.readline()
    elif step.startswith("over="):  # FD=FILE: the program's file over FD
        fd, path = step[5:].split("=", 1)
        saved = os.dup(int(fd))
        os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), int(fd))
    elif step.startswith("back="):
        os.dup2(saved, int(step[5:]))
    elif step.startswith("reopen="):    # close_range, then its data file lands on 2
        os.closerange(2, 3)
        fd = os.open(step[7:], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        assert fd == 2, fd
print("done", flush=True)
EOF
run_prog() { LD_PRELOAD=$HU_PRELOAD timeout 20 "$HU_PY" "$HU_TMP/prog.py" "$@"; }

# close_range at start, then the data file opened on fd 2
out=$(run_prog reopen="$HU_TMP/data1" rec 2>/dev/null)
hu_assert_eq done "$out" "data file on fd 2: the program ran"
hu_assert_eq 0 "$(stat -c %s "$HU_TMP/data1")" "data file on fd 2: no record in it"
# dup2 over stderr, then stderr put back: records resume and count the loss
run_prog rec over=2="$HU_TMP/data2" rec back=2 rec >/dev/null 2>"$HU_TMP/back.err"
hu_assert_eq 0 "$(stat -c %s "$HU_TMP/data2")" "file dup2'ed over fd 2: no record in it"
hu_assert_eq "retry=4 recovered=0 gave_up=2 config_error=0" "$("$HU_PY" "$REC" "$HU_TMP/back.err")" \
	"stderr put back: the records before and after are there"
hu_assert_eq 3 "$(field "$HU_TMP/back.err" retry dropped | grep -v null | head -1)" \
	"stderr put back: the next record says 3 were dropped"
# fd:N: the same
out=$(HOSTUP_LOG=fd:7 run_prog rec over=7="$HU_TMP/data3" rec 7>"$HU_TMP/fd7.log" 2>"$HU_TMP/fd7.err")
hu_assert_eq 0 "$(stat -c %s "$HU_TMP/data3")" "file dup2'ed over fd:7: no record in it"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$("$HU_PY" "$REC" "$HU_TMP/fd7.log")" \
	"fd:7: the records from before are there"
hu_assert_eq "" "$(grep '^{' "$HU_TMP/fd7.err")" "fd:7 replaced: nothing sent to stderr instead"

# --- stderr a full pipe; then drained: the next record counts the dropped
cat >"$HU_TMP/full.py" <<'EOF'
import json, os, subprocess, sys, time
r, w = os.pipe()
os.set_blocking(w, False)
try:
    while True:
        os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
try:
    while True:
        os.write(w, b"x")
except BlockingIOError:
    pass
os.set_blocking(w, True)
t0 = time.time()
p = subprocess.Popen(sys.argv[1:] + ["rec", "wait", "rec"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=w, text=True)
os.close(w)
try:
    ready = p.stdout.readline().strip()
except Exception:
    ready = ""
print("full pipe: %s after %d ms" % (ready or "blocked", (time.time() - t0) * 1000))
os.set_blocking(r, False)
try:
    while os.read(r, 65536):
        pass
except BlockingIOError:
    pass
p.stdin.write("go\n")
p.stdin.flush()
p.wait()
os.set_blocking(r, True)
lines = [l for l in os.read(r, 1 << 20).decode().splitlines() if l.startswith("{")]
print("dropped:", json.loads(lines[0]).get("dropped") if lines else "no record")
EOF
out=$(timeout 30 "$HU_PY" "$HU_TMP/full.py" env LD_PRELOAD="$HU_PRELOAD" "$HU_PY" "$HU_TMP/prog.py")
hu_assert_contains "$out" "full pipe: ready after" "stderr a full pipe: the program is not blocked"
t=$(echo "$out" | sed -n 's/.*ready after \([0-9]*\) ms/\1/p')
hu_assert_lt "${t:-99999}" 5000 "stderr a full pipe: its connect took no longer for it"
hu_assert_eq "dropped: 3" "$(echo "$out" | tail -1)" "drained: the next record says 3 were dropped"

# --- fd:N a pipe whose reader left: EPIPE, never SIGPIPE
out=$("$HU_PY" -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                   pass_fds=(w,), env=dict(os.environ, HOSTUP_LOG="fd:%d" % w), text=True)
print(p.returncode, p.stdout.strip())' env LD_PRELOAD="$HU_PRELOAD" "$C" 127.0.0.1 1)
hu_assert_eq "1 error ECONNREFUSED" "$out" "fd:N a pipe without reader: no SIGPIPE, libc's result"
hu_done
