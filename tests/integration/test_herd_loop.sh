#!/bin/bash
# SPDX-License-Identifier: MIT
# Herd control for event-loop clients (issue 17): a non-blocking connect to a
# target another process probes sends no SYN (engine/conn.c: hu_conn_hold);
# its socket stays not-writable in the program's own poll/select/epoll
# until the prober's verdict, and the loop's timers keep firing.
# - 50 python processes, socket.create_connection(timeout=40), against a
#   target down for 5 s: SYNs (an nftables counter) with the shared file
#   are at most 1/4 of those with HOSTUP_SHARED=off, and all connect;
# - one held client per wait style (poll, select, epoll registered after or
#   before connect, python asyncio): no SYN of its own while held, its 20 ms
#   timer never stalls, connected after recovery;
# - a held socket closed, and its number reused for a live target.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_cmd setpriv
hu_need_lib
hu_need_tools hu_connect hu_evloop
C=$HU_TOOLS/hu_connect E=$HU_TOOLS/hu_evloop
hu_net_setup
P=8080 N=50 D=5

syn_counter() { hu_s nft insert rule inet hutest input tcp dport "$1" 'tcp flags & (syn|ack) == syn' counter || hu_fail "counter $1"; }
syns() { hu_s nft list chain inet hutest input | awk -v p="dport $1 " 'index($0, p) { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'; }
# SYNs sent by the processes of group GID (client namespace)
hu_c nft add table inet hucl && hu_c nft add chain inet hucl out '{ type filter hook output priority 0; }' ||
	hu_fail "client counters"
gid_counter() { hu_c nft add rule inet hucl out meta skgid "$1" tcp dport $P tcp flags '& (syn|ack) == syn' counter || hu_fail "gid counter"; }
gid_syns() { hu_c nft list chain inet hucl out | awk -v g="skgid $1 " 'index($0, g) { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'; }

PYCLIENT="import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=40)
print(s.makefile('rb').readline().decode().strip())"

# --- 50 python processes, shared against off ----------------------------
# one run: N clients under SHARED against PORT, down for D s -> "SYNs
# during the outage, SYNs in all, clients connected"
herd_run() { # NAME PORT SHARED
	local name=$1 port=$2 shared=$3 i ok down
	local -a pids=()
	hu_serve_tcp "$port" 512
	syn_counter "$port"
	hu_reject "$port"
	for ((i = 0; i < N; i++)); do
		hu_c env LD_PRELOAD="$HU_PRELOAD" HOSTUP_SHARED="$shared" HOSTUP_LOG="$HU_TMP/${name}_$i.log" \
			"$HU_PY" -c "$PYCLIENT" "$IP_S" "$port" >"$HU_TMP/${name}_$i.out" 2>"$HU_TMP/${name}_$i.err" &
		pids+=($!)
		hu__track $!
	done
	sleep "$D"
	down=$(syns "$port")
	hu_unreject
	hu_wait 60 "$name clients" "${pids[@]}"
	ok=$(cat "$HU_TMP/${name}"_*.out | grep -cx "$HU_HELLO")
	echo "$down $(syns "$port") $ok"
}
read -r off_syns off_all off_ok <<<"$(herd_run off 8101 off)"
read -r sh_syns sh_all sh_ok <<<"$(herd_run shared 8102 "$HU_TMP/py.shm")"
echo "SYNs during the outage (in all): HOSTUP_SHARED=off $off_syns ($off_all), shared $sh_syns ($sh_all)"
hu_assert_eq $N "$off_ok" "HOSTUP_SHARED=off: all $N python clients connect"
hu_assert_eq $N "$sh_ok" "shared: all $N python clients connect"
hu_assert_le $((4 * sh_syns)) "$off_syns" "shared: at most 1/4 of the SYNs of HOSTUP_SHARED=off ($sh_syns vs $off_syns)"
cat "$HU_TMP"/shared_*.log >"$HU_TMP/shared.log"
hu_assert_ge "$(grep -c '"event":"probe_wait"' "$HU_TMP/shared.log")" 1 "shared: held connects wrote probe_wait records"

# --- each wait style, held while another process probes -----------------
hu_serve_tcp $P
hu_serve_tcp 8091
G=40000
POLICY="* attempts=60 backoff=100ms..500ms deadline=30s"
held() { # NAME CMD... : a prober first, then CMD under gid $G, while down
	local name=$1 prober
	shift
	G=$((G + 1))
	gid_counter $G
	hu_reject $P
	hu_c env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$POLICY" HOSTUP_LOG=off "$C" "$IP_S" $P >/dev/null 2>&1 &
	prober=$!
	hu__track $prober
	sleep 1.2     # the prober holds the lease, the target is known failing
	hu_after 3 hu_unreject
	hu_run_shim "$name" "$POLICY" setpriv --regid=$G --clear-groups "$@"
	hu_wait 30 "prober" $prober
	HELD_SYNS=$(gid_syns $G)
}
for mode in poll select epoll-lt epoll-et epoll-oneshot epoll-early; do
	held "c_$mode" "$E" $mode "$IP_S" $P
	hu_assert_eq "connected: $HU_HELLO" "$HU_OUT" "C $mode, held: connected after recovery"
	gap=$(sed -n 's/.*max_gap_ms=\([0-9]*\).*/\1/p' <<<"$HU_ERR")
	hu_assert_lt "$gap" 100 "C $mode, held: the loop's 20 ms timeout kept firing"
	hu_assert_eq 1 "$HELD_SYNS" "C $mode, held: one SYN, after recovery (none while held)"
	hu_assert_ge "$(grep -c '"event":"probe_wait"' "$HU_TMP/c_$mode.log")" 1 "C $mode: probe_wait records while held"
	hu_assert_eq 1 "$(grep -c '"event":"recovered"' "$HU_TMP/c_$mode.log")" "C $mode: one recovered record"
done
PYASYNC="import asyncio, time
gaps = []
async def ticker():
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.02)
        now = time.monotonic(); gaps.append(now - last); last = now
async def main():
    t = asyncio.create_task(ticker())
    r, w = await asyncio.open_connection('$IP_S', $P)
    line = (await r.readline()).decode().strip()
    t.cancel()
    print(line)
    print('max_gap_ms', int(max(gaps) * 1000))
asyncio.run(main())"
held pyasync "$HU_PY" -c "$PYASYNC"
hu_assert_eq "$HU_HELLO" "$(head -1 <<<"$HU_OUT")" "asyncio, held: connected after recovery"
gap=$(sed -n 's/^max_gap_ms \([0-9]*\).*/\1/p' <<<"$HU_OUT")
hu_assert_lt "$gap" 100 "asyncio, held: the 20 ms timer kept firing"
hu_assert_eq 1 "$HELD_SYNS" "asyncio, held: one SYN, after recovery"
# a held socket closed; its number, a fresh socket to a live port: no stale state
held c_close "$E" close "$IP_S" $P 8091
hu_assert_eq "connected: $HU_HELLO" "$HU_OUT" "a held socket closed: the reused number connects to the live port"
hu_assert_eq 0 "$HELD_SYNS" "a held socket closed: it never sent a SYN to the dead target"
hu_done
