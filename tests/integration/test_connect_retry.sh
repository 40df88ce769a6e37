#!/bin/bash
# SPDX-License-Identifier: MIT
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
# python3 with the program's own bound: SO_SNDTIMEO of argv[1] seconds
PYSNDTIMEO="import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack('ll', int(sys.argv[1]), 0))
try:
    s.connect(('$IP_S', $P)); print('connected')
except OSError as e:
    print('error', e.errno)"
# Every run has a bound of its own (HU_MAX): a broken deadline fails the
# test with "hung" in seconds, not at run.sh's 10 minutes.

hu_net_setup
hu_serve_tcp $P

# --- ICMP host-unreachable for 4 s: python3 blocking socket.
hu_reject $P
hu_run "$HU_PY" -c "$PYCLIENT"
hu_assert_ne 0 "$HU_RC" "python3 without hostup fails"
hu_assert_contains "$HU_ERR" "No route to host" "python3 without hostup: message"
hu_after 4 hu_unreject
HU_MAX=20 hu_run_shim reject "$POLICY" "$HU_PY" -c "$PYCLIENT"
hu_assert_eq 0 "$HU_RC" "python3 with hostup survives a 4 s ICMP reject"
hu_assert_eq "$HU_HELLO" "$HU_OUT" "python3 with hostup: reply"
hu_assert_ge "$HU_MS" 3500 "the outage really lasted"
# tries fail at once (ICMP) and wait at most the backoff cap (500 ms)
hu_assert_le "$HU_MS" 5500 "python3: connected within the backoff cap of the target's return"
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
HU_MAX=20 hu_run_shim hostdown "$POLICY" "$C" "$IP_S" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "C client with hostup survives EHOSTDOWN"
hu_assert_contains "$(hu_counts hostdown)" "recovered=1 gave_up=0" "hostdown: recovered"
hu_assert_eq EHOSTDOWN "$(hu_field hostdown retry errno | sort -u)" "retries were for EHOSTDOWN"
hu_assert_eq host "$(hu_field hostdown retry diagnosis | head -1 | "$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["layer"])')" \
	"EHOSTDOWN diagnosed at the host layer"

# --- absent on-link host (ARP gives up after ~3 s), appears after 4 s.
hu_run "$C" "$IP_ABSENT" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "absent host without hostup"
hu_absent_appear 4 $P
HU_MAX=20 hu_run_shim arp "$POLICY" "$C" "$IP_ABSENT" $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "C client with hostup survives an ARP outage"
hu_assert_contains "$(hu_counts arp)" "recovered=1" "arp: recovered"
cause=$(hu_field arp retry diagnosis | head -1 | "$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["cause"])')
hu_assert_eq "on-link host does not answer ARP/ND" "$cause" "ARP failure diagnosed"

# --- a target that never recovers: the original errno once attempts are spent.
hu_reject $P
HU_MAX=15 hu_run_shim dead "* attempts=3 backoff=100ms..200ms" "$C" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "never recovers: the program sees EHOSTUNREACH"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts dead)" "2 retries then gave_up"
hu_assert_eq 3 "$(hu_field dead gave_up attempt)" "gave_up counts the tries"
hu_assert_eq 3 "$(hu_field dead gave_up attempts)" "gave_up names the limit"
# Each record names the program's frames (docs/records.md): the C client's
# own (main is not a dynamic symbol: named from its file), then libc's; the
# same frames in every record of the one call site (named once, then from
# the frame cache).
bt=$(hu_field dead gave_up backtrace)
hu_assert_match '^\["main\+0x[0-9a-f]+ \(hu_connect\)", ' "$bt" "backtrace: the client's own frame first, named"
hu_assert_match '"(__libc_start_main\+)?0x[0-9a-f]+ \(libc\.so\.6\)"' "$bt" "backtrace: libc's frames, with their module"
hu_assert_eq "$bt" "$(hu_field dead retry backtrace | sort -u)" "every record of the call site has the same frames"
# Debian's python3 is stripped: a frame is named only by a dynamic symbol
# that holds it (name+OFF with OFF within the symbol's size), else it is
# the offset in the module; never the nearest symbol before it.
bt=$(hu_field reject retry backtrace | head -n 1)
bad=$(readelf --dyn-syms -W "$(readlink -f "$HU_PY")" | "$HU_PY" -c '
import json, re, sys
sizes = {f[7]: int(f[2], 0) for f in (l.split() for l in sys.stdin) if len(f) >= 8 and f[3] == "FUNC"}
frames = json.loads(sys.argv[1])
named = [m.groups() for m in (re.match(r"(\S+)\+0x([0-9a-f]+) \(python3", f) for f in frames) if m]
print(len(named) if named else "none named")
print("wrong:" + " ".join(f"{n}+{o}" for n, o in named if n not in sizes or int(o, 16) > sizes[n]))
' "$bt")
hu_assert_match '^[1-8]$' "$(head -n 1 <<<"$bad")" "python3's backtrace: some frames named ($bt)"
X

# --- the deadline bounds the whole retry.  Tries fail at once (ICMP); with
# a fixed 100 ms backoff it gives up when the next try would start past the
# deadline: between 1.9 and 2 s after connect() began (a try in flight is
# cut at 2 s).  The upper bounds leave room for a loaded machine.
bounded() { # NAME WHAT: the gave_up of NAME came at its 2 s bound
	local el
	hu_assert_eq "error 113" "${HU_OUT/EHOSTUNREACH/113}" "$2: EHOSTUNREACH after the bound"
	hu_assert_eq deadline "$(hu_field "$1" gave_up reason)" "$2: gave_up says why (reason deadline)"
	el=$(hu_field "$1" gave_up elapsed_ms)
	hu_assert_ge "$el" 1900 "$2: kept trying until the last try that fits (gave_up elapsed_ms)"
	hu_assert_le "$el" 2300 "$2: gave up at the bound (gave_up elapsed_ms)"
	hu_assert_ge "$HU_MS" 1900 "$2: the program waited out the bound"
	hu_assert_le "$HU_MS" 2600 "$2: the program had its answer within the bound"
}
HU_MAX=15 hu_run_shim deadline "* attempts=1000 backoff=100ms..100ms jitter=none deadline=2s" "$C" "$IP_S" $P
bounded deadline "deadline=2s"

# --- the program's own SO_SNDTIMEO on a blocking socket bounds the whole
# retry as the deadline does (the shorter of the two wins)
HU_MAX=15 hu_run_shim sndtimeo "* attempts=1000 backoff=100ms..100ms deadline=60s" "$HU_PY" -c "$PYSNDTIMEO" 2
bounded sndtimeo "SO_SNDTIMEO 2 s, deadline=60s"
HU_MAX=15 hu_run_shim sndtimeo_long "* attempts=1000 backoff=100ms..100ms deadline=2s" "$HU_PY" -c "$PYSNDTIMEO" 5
bounded sndtimeo_long "SO_SNDTIMEO 5 s, deadline=2s"
hu_unreject
hu_done
