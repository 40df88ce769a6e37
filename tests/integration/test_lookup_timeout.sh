#!/bin/bash
# SPDX-License-Identifier: MIT
# A rule's timeout= bounds each try of a lookup: a DNS server that never
# answers costs one timeout per try, not glibc's 2 x 5 s.  The client uses
# glibc's default resolver settings (no options line in resolv.conf).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect
C=$HU_TOOLS/hu_connect
P=8080

hu_net_setup
printf 'nameserver %s\n' "$IP_S" >"/etc/netns/$NS_C/resolv.conf" || hu_fail "resolv.conf"
hu_serve_tcp $P
hu_dns_start --drop-for 100000 --record db="$IP_S"

# --- never answers: glibc alone waits its own 10 s
hu_run "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "without hostup: EAI_AGAIN"
hu_assert_ge "$HU_MS" 9500 "without hostup: glibc waited 2 x 5 s"

hu_run_shim never "db timeout=500ms attempts=3 backoff=100ms..100ms jitter=none" "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "timeout=500ms: still EAI_AGAIN in the end"
hu_assert_lt "$HU_MS" 2500 "timeout=500ms: 3 tries of 0.5 s and two waits, not 30 s"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts never)" "two retries, then gave_up"
cause=$(hu_field never gave_up diagnosis | "$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["layer"], d["cause"], d["evidence"]["try_ms"])')
hu_assert_contains "$cause" "dns DNS server did not answer within the rule's timeout (500 ms)" "diagnosis names the cut"
ms=${cause##* }
hu_assert_ge "$ms" 500 "the last try lasted its timeout"
hu_assert_lt "$ms" 900 "the last try lasted no more than about its timeout"

# --- the rule applies by name only: another name keeps glibc's behaviour
#     (one try, so one glibc timeout; the * rule has no timeout=)
hu_run_shim other "db timeout=500ms; * attempts=1" "$C" other $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "other name: EAI_AGAIN"
hu_assert_ge "$HU_MS" 9500 "other name: glibc's own 10 s"

# --- silent for 3 s, then answers: reached soon after
hu_dns_stop
hu_dns_start --drop-for 3 --record db="$IP_S"
hu_run_shim late "db timeout=500ms attempts=40 backoff=100ms..200ms" "$C" db $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "silent for 3 s: connects"
hu_assert_lt "$HU_MS" 5000 "silent for 3 s: reached within about a try of the answer"
hu_assert_contains "$(hu_counts late)" "recovered=1 gave_up=0" "silent for 3 s: recovered"

# --- 32 threads at once against a silent server: more abandoned lookups than
#     the helper bound (64); every call still returns within its bound
hu_dns_stop
hu_dns_start --drop-for 100000 --record db="$IP_S"
hu_run_shim threads "db timeout=300ms attempts=5 backoff=100ms..100ms jitter=none" "$HU_PY" -c "
import socket, threading
out = []
def one():
    try:
        socket.getaddrinfo('db', $P, type=socket.SOCK_STREAM)
        out.append('ok')
    except socket.gaierror as e:
        out.append(e.errno == socket.EAI_AGAIN and 'EAI_AGAIN' or str(e))
ts = [threading.Thread(target=one) for _ in range(32)]
[t.start() for t in ts]
[t.join() for t in ts]
print(len(out), sorted(set(out)))"
hu_assert_eq "32 ['EAI_AGAIN']" "$HU_OUT" "32 threads: each call ends with EAI_AGAIN"
hu_assert_lt "$HU_MS" 5000 "32 threads: 5 tries of 0.3 s each, not glibc's 10 s"
hu_assert_eq 32 "$(hu_field threads gave_up errno | wc -l)" "32 threads: 32 gave_up records"
hu_done
