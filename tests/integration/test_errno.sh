#!/bin/bash
# SPDX-License-Identifier: MIT
# The program's own error, on every wrapper path (README, "When the policy
# is spent"): a try that hostup cut short, because the deadline came or the
# rule's timeout ran out, never reaches the program as ETIMEDOUT while an
# earlier try got a real answer from the kernel; the program gets that
# answer.  Paths: blocking connect (hu_connect), poll and epoll revents and
# select + SO_ERROR (hu_evloop), python3's poll + SO_ERROR.
#   1. absent on-link host: each try takes ~3 s (ARP), so with deadline=4s
#      the deadline comes during the second try;
#   2. ICMP host-unreachable for 1 s, then SYNs silently dropped: later
#      tries are cut by timeout=500ms;
#   3. SYNs dropped from the start: no try ever gets an answer, and the
#      program gets ETIMEDOUT, the kernel's own errno for that.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect hu_evloop
C=$HU_TOOLS/hu_connect E=$HU_TOOLS/hu_evloop
P=8080
PYT="import socket
try:
    socket.create_connection(('%s', $P), timeout=30); print('connected')
except OSError as e:
    print('error', e.errno)"

hu_net_setup
hu_serve_tcp $P

# the paths: NAME -> command line (the target is appended)
declare -A PATHS=(
	[blocking]="$C"
	[poll]="$E poll"
	[epoll]="$E epoll-lt"
	[so_error]="$E select"
)

# --- 1. the deadline comes during a try (absent on-link host)
ip -n "$NS_C" neigh flush all
hu_run "$C" "$IP_ABSENT" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "absent host without hostup: EHOSTUNREACH"
ip -n "$NS_C" neigh flush all
hu_run "$E" poll "$IP_ABSENT" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "absent host without hostup, poll: EHOSTUNREACH"
for path in blocking poll epoll so_error; do
	ip -n "$NS_C" neigh flush all
	# shellcheck disable=SC2086
	hu_run_shim "deadline_$path" "* attempts=40 backoff=100ms..400ms deadline=4s" ${PATHS[$path]} "$IP_ABSENT" $P
	hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "$path, deadline during a try: the kernel's EHOSTUNREACH, not ETIMEDOUT"
	hu_assert_ge "$HU_MS" 3500 "$path: a second try was made"
	hu_assert_lt "$HU_MS" 4800 "$path: the deadline ended it"
	hu_assert_eq EHOSTUNREACH "$(hu_field "deadline_$path" gave_up errno)" "$path: gave_up names what the program got"
done
ip -n "$NS_C" neigh flush all
hu_run_shim deadline_python "* attempts=40 backoff=100ms..400ms deadline=4s" "$HU_PY" -c "$(printf "$PYT" "$IP_ABSENT")"
hu_assert_eq "error 113" "$HU_OUT" "python3 poll + SO_ERROR, deadline during a try: errno 113"
hu_assert_lt "$HU_MS" 4800 "python3: the deadline ended it"

# --- 2. the rule's timeout cuts tries after real failures
# inserted before the reject rule: no moment in which a SYN gets through
to_drop() { hu_s nft insert rule inet hutest reject_rules tcp dport $P drop; }
for path in blocking poll epoll so_error; do
	hu_reject $P
	hu_after 1 to_drop
	# shellcheck disable=SC2086
	hu_run_shim "timeout_$path" "* attempts=40 timeout=500ms backoff=100ms..200ms deadline=3s retry_on=+ETIMEDOUT" \
		${PATHS[$path]} "$IP_S" $P
	hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "$path, tries cut by timeout= after ICMP errors: the kernel's EHOSTUNREACH"
	errs=$(hu_field "timeout_$path" retry errno | sort -u | tr '\n' ' ')
	hu_assert_eq "EHOSTUNREACH ETIMEDOUT " "$errs" "$path: real failures first, then cut tries (retry records)"
	hu_assert_eq EHOSTUNREACH "$(hu_field "timeout_$path" gave_up errno)" "$path: gave_up names what the program got"
	hu_unreject
	sleep 0.2
done

# --- 3. no try ever answered: ETIMEDOUT, what the kernel gives for that
hu_s nft add rule inet hutest reject_rules tcp dport $P drop
for path in blocking poll; do
	# shellcheck disable=SC2086
	hu_run_shim "silent_$path" "* attempts=3 timeout=300ms backoff=100ms..100ms retry_on=+ETIMEDOUT" \
		${PATHS[$path]} "$IP_S" $P
	hu_assert_eq "error ETIMEDOUT" "$HU_OUT" "$path, no try answered: ETIMEDOUT"
	hu_assert_lt "$HU_MS" 2000 "$path: three tries of 300 ms"
done
hu_unreject
hu_done
