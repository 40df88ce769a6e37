#!/bin/bash
# SPDX-License-Identifier: MIT
# valgrind memcheck on real programs under the library through a failure:
# python3 and curl connect to a host down for 3 s (retries, records with a
# diagnosis and a backtrace, recovery).  No invalid read or write, no use of
# uninitialised memory, and no definite leak may involve the library; the
# programs' own findings do not fail the test (memcheck.supp suppresses only
# libunwind's by-design address checks).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
command -v valgrind >/dev/null 2>&1 || { echo "skipped: needs valgrind"; exit 77; }
hu_need_cmd curl
[[ -n ${HU_SANITIZE:-} ]] && { echo "skipped: valgrind cannot run a sanitizer build"; exit 77; }
P=8080
SUPP=$HU_ROOT/tests/integration/memcheck.supp
hu_net_setup
hu_serve_http $P

# valgrind's exit code is 99 for any error; the report says whose it is
vg() { # NAME CMD...
	local name=$1
	shift
	: >"$HU_TMP/$name.log"
	# valgrind is slow: a program through a 3 s outage, 300 s at most
	HU_MAX=300 hu_run env LD_PRELOAD="$HU_LIB" HOSTUP_POLICY="* attempts=40 backoff=200ms..500ms" \
		HOSTUP_LOG="$HU_TMP/$name.log" PYTHONMALLOC=malloc \
		valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
		--show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=no \
		--num-callers=30 --suppressions="$SUPP" --log-file="$HU_TMP/$name.vg" "$@"
}

# errors whose stack has a frame in our library (or our sources)
ours() { # VGFILE
	awk '/^==[0-9]+== [A-Z].*(Invalid|uninitialised|definitely lost|Mismatched|free\(\)|overlap|Syscall param)/ { blk = $0; inb = 1; next }
	     inb && /^==[0-9]+== *$/ { if (hit) print blk; inb = 0; hit = 0; next }
	     inb && /libhostup|shim\// { hit = 1 }' "$1"
}

check() { # NAME WHAT
	local errs
	errs=$(grep -E '== ERROR SUMMARY' "$HU_TMP/$1.vg" | tail -n 1)
	hu_assert_contains "$errs" "ERROR SUMMARY" "$2: memcheck ran to the end"
	[[ -z $(ours "$HU_TMP/$1.vg") ]] || hu_fail "$2: memcheck errors in the library: $(ours "$HU_TMP/$1.vg")"
	hu_ok "$2: no memcheck error with a frame in libhostup ($errs)"
	[[ $HU_RC != 99 ]] || { sed -n '1,60p' "$HU_TMP/$1.vg" >&2; hu_fail "$2: memcheck reported errors (exit 99)"; }
	hu_ok "$2: memcheck exit $HU_RC, not 99: no error and no definite leak at all"
}

hu_reject $P
hu_after_line "$HU_TMP/python.log" '"event":"retry"' 2 hu_unreject
vg python /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=60)
s.sendall(b"GET /hello.txt HTTP/1.0\r\n\r\n")
data = b""
while True:  # to EOF: headers and body may come in separate reads
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode().split("\r\n\r\n", 1)[1].strip())' "$IP_S" $P
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "python3 under memcheck: fetched after the outage"
hu_assert_contains "$(hu_counts python)" "recovered=1" "python3: retried and recovered"
check python python3

hu_reject $P
hu_after_line "$HU_TMP/curl.log" '"event":"retry"' 2 hu_unreject
vg curl "$(command -v curl)" -sS --noproxy '*' --max-time 60 "http://$IP_S:$P$HU_HTTP_PATH"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl under memcheck: fetched after the outage"
hu_assert_contains "$(hu_counts curl)" "recovered=1" "curl: retried and recovered"
check curl curl
hu_done
