#!/bin/bash
# Blocking connect() under the library against real failures in network
# namespaces: ICMP host-unreachable, ICMP host-unknown (EHOSTDOWN), an
# absent on-link host (ARP), each down for 4 s, then a target that never
# recovers.  Unmodified programs: python3 and a small C client.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect hu_icmp_hostdown
C=$HU_TOOLS/hu_connect
P=8080
POLICY="* attempts=30 backoff=100ms..500ms deadline=30s"
PYCLIENT="import socket,sys
s = socket.create_connection(('$IP_S', $P))
print(s.makefile().readline().strip())"

hu_net_setup
hu_serve_tcp $P

# --- ICMP host-unreachable for 4 s: python3 blocking socket.
hu_reject $P
hu_run "$HU_PY" -c "$PYCLIENT"
hu_assert_ne 0 "$HU_RC" "python3 without hostup fails"
hu_assert_contains "$HU_ERR" "No route to host" "python3 without hostup: message"
hu_after 4 hu_unreject
hu_run_shim reject "$POLICY" "$HU_PY" -c "$PYCLIENT"
hu_assert_eq 0 "$HU_RC" "python3 with hostup survives a 4 s ICMP reject"
hu_assert_eq "$HU_HELLO" "$HU_OUT" "python3 with hostup: reply"
hu_assert_ge "$HU_MS" 3500 "the outage really lasted"
counts=$(hu_counts reject)
hu_assert_contains "$counts" "recovered=1 gave_up=0" "one recovered record"
hu_assert_ne "retry=0" "${counts%% *}" "retry records written"
hu_assert_eq EHOSTUNREACH "$(hu_field reject retry errno | sort -u)" "retries were for EHOSTUNREACH"
hu_assert_eq python3 "$(hu_field reject recovered program)" "record names the program"

# --- EHOSTDOWN (ICMP code 7) for 4 s: the C client.
hu_hostdown $P
hu_run "$C" "$IP_S" $P
hu_assert_eq "error EHOSTDOWN" "$HU_OUT" "C client without hostup: EHOSTDOWN"
hu_after 4 hu_unhostdown
hu_run_shim hostdown "$POLICY" "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "C client with hostup survives EHOSTDOWN"
hu_assert_contains "$(hu_counts hostdown)" "recovered=1 gave_up=0" "hostdown: recovered"
hu_assert_eq EHOSTDOWN "$(hu_field hostdown retry errno | sort -u)" "retries were for EHOSTDOWN"
hu_assert_eq host "$(hu_field hostdown retry diagnosis | head -1 | "$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["layer"])')" \
	"EHOSTDOWN diagnosed at the host layer"

# --- absent on-link host (ARP gives up after ~3 s), appears after 4 s.
hu_run "$C" "$IP_ABSENT" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "absent host without hostup"
hu_absent_appear 4 $P
hu_run_shim arp "$POLICY" "$C" "$IP_ABSENT" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "C client with hostup survives an ARP outage"
hu_assert_contains "$(hu_counts arp)" "recovered=1" "arp: recovered"
cause=$(hu_field arp retry diagnosis | head -1 | "$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["cause"])')
hu_assert_eq "on-link host does not answer ARP/ND" "$cause" "ARP failure diagnosed"

# --- a target that never recovers: the original errno once attempts are spent.
hu_reject $P
hu_run_shim dead "* attempts=3 backoff=100ms..200ms" "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "never recovers: the program sees EHOSTUNREACH"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts dead)" "2 retries then gave_up"
hu_assert_eq 3 "$(hu_field dead gave_up attempt)" "gave_up counts the tries"
hu_assert_eq 3 "$(hu_field dead gave_up attempts)" "gave_up names the limit"

# --- the deadline bounds the whole retry.
hu_run_shim deadline "* attempts=1000 backoff=100ms..100ms jitter=none deadline=2s" "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "deadline: original errno"
hu_assert_lt "$HU_MS" 4000 "deadline: gave up within deadline plus one try"
hu_assert_ge "$HU_MS" 1500 "deadline: kept trying until near the deadline"

# --- python3 with the program's own timeout (SO_SNDTIMEO bounds the retry).
hu_run_shim sndtimeo "* attempts=1000 backoff=100ms..100ms deadline=60s" "$HU_PY" -c "
import socket, struct
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack('ll', 2, 0))
try:
    s.connect(('$IP_S', $P)); print('connected')
except OSError as e:
    print('error', e.errno)"
hu_assert_eq "error 113" "$HU_OUT" "SO_SNDTIMEO: EHOSTUNREACH after the program's bound"
hu_assert_lt "$HU_MS" 4000 "SO_SNDTIMEO bounds the whole retry"
hu_unreject
hu_done
