#!/bin/bash
# SPDX-License-Identifier: MIT
# Hosts that move: a program resolves db once (as a connection pool or a DNS
# cache does), then db moves to another address (a recreated container):
# the old address answers ICMP host-unreachable and the stub DNS now gives
# the new one.  Under hostup the failed connect makes it look db up again and
# connect the same fd to the new address, with a readdressed record; without
# it the program fails.  Blocking connect, connect with a timeout (poll +
# SO_ERROR) and asyncio (epoll).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
P=8080
IP_NEW=198.18.0.5
POLICY="* attempts=20 backoff=100ms..300ms deadline=20s"
# resolve db once, wait until the test has moved it, then connect
CLIENT="import asyncio, os, socket, sys, time
mode, flag = sys.argv[1], sys.argv[2]
addr = socket.getaddrinfo('db', $P, socket.AF_INET, socket.SOCK_STREAM)[0][4]
print('resolved', addr[0], flush=True)
while not os.path.exists(flag):
    time.sleep(0.05)
if mode == 'asyncio':
    async def main():
        r, w = await asyncio.open_connection(addr[0], addr[1])
        print((await r.readline()).decode().strip())
    asyncio.run(main())
else:
    s = socket.socket()
    if mode == 'timeout':
        s.settimeout(20)
    s.connect(addr)
    print(s.makefile().readline().strip())"

hu_net_setup
ip -n "$NS_S" addr add "$IP_NEW/24" dev "$IF_S" || hu_fail "second server address"
hu_serve_tcp $P
REC=$HU_TMP/records
echo "db=$IP_S" >"$REC"
hu_dns_start --records-file "$REC"

at_old() { hu_unreject; echo "db=$IP_S" >"$REC"; rm -f "$HU_TMP/moved"; }
# db moves: its old address rejects, the name gives the new one
move() {
	hu_s nft add rule inet hutest reject_rules ip daddr "$IP_S" tcp dport $P \
		reject with icmp type host-unreachable || hu_fail "reject the old address"
	echo "db=$IP_NEW" >"$REC"
	touch "$HU_TMP/moved"
}

hu_after 0.5 move
hu_run "$HU_PY" -c "$CLIENT" block "$HU_TMP/moved"
hu_assert_contains "$HU_OUT" "resolved $IP_S" "the program resolved the old address"
hu_assert_ne 0 "$HU_RC" "without hostup: the program fails"
hu_assert_contains "$HU_ERR" "No route to host" "without hostup: EHOSTUNREACH"

for mode in block timeout asyncio; do
	at_old
	hu_after 0.5 move
	hu_run_shim "$mode" "$POLICY" "$HU_PY" -c "$CLIENT" "$mode" "$HU_TMP/moved"
	hu_assert_eq "resolved $IP_S"$'\n'"$HU_HELLO" "$HU_OUT" "$mode: reaches db at its new address"
	hu_assert_contains "$(hu_counts "$mode" --op connect)" "recovered=1 gave_up=0" "$mode: recovered"
	hu_assert_eq "$IP_S $IP_NEW db" \
		"$(hu_field "$mode" readdressed old_addr) $(hu_field "$mode" readdressed addr) $(hu_field "$mode" readdressed host)" \
		"$mode: one readdressed record, old and new address"
	hu_assert_eq "$IP_NEW" "$(hu_field "$mode" recovered addr)" "$mode: recovered at the new address"
done

# An outage where the name keeps its address: looked up again, not moved.
at_old
touch "$HU_TMP/moved"
hu_reject $P
hu_after 3 hu_unreject
before=$(grep -c "db type 1 -> A $IP_S" "$HU_TMP"/dns_0.log)
hu_run_shim stay "$POLICY" "$HU_PY" -c "$CLIENT" block "$HU_TMP/moved"
hu_assert_eq "resolved $IP_S"$'\n'"$HU_HELLO" "$HU_OUT" "same address: recovered"
hu_assert_contains "$(hu_counts stay)" "recovered=1 gave_up=0" "same address: recovered record"
hu_assert_eq 0 "$(hu_nrecords stay readdressed)" "same address: no readdressed record"
hu_assert_ge "$(($(grep -c "db type 1 -> A $IP_S" "$HU_TMP"/dns_0.log) - before))" 2 "same address: db was looked up again"

# A connect by address that no name produced is never readdressed.
at_old
touch "$HU_TMP/moved"
hu_s nft add rule inet hutest reject_rules ip daddr "$IP_S" tcp dport $P reject with icmp type host-unreachable
hu_run_shim noname "* attempts=3 backoff=50ms..50ms" "$HU_PY" -c "
import socket
s = socket.socket()
s.connect(('$IP_S', $P))"
hu_assert_contains "$HU_ERR" "No route to host" "by address: fails as before"
hu_assert_eq 0 "$(hu_nrecords noname readdressed)" "by address: no readdressed record"
# Remembered (a pool keeps the old address and connects again and again):
# after the first connection was readdressed, new connections to the old
# address go to the new one at once, with no failed try and one
# "remembered" record; a look-up that gives the old address again ends it.
POOL="import os, socket, sys, time
def wait(f):
    while not os.path.exists(f):
        time.sleep(0.05)
def once(addr, tag):
    t = time.monotonic()
    s = socket.create_connection(addr, timeout=10)
    line = s.makefile().readline().strip()
    print(tag, line, s.getpeername()[0], flush=True)
    s.close()
addr = socket.getaddrinfo('db', $P, socket.AF_INET, socket.SOCK_STREAM)[0][4]
wait(sys.argv[1])
for i in range(5):
    once(addr, i)
wait(sys.argv[2])
again = socket.getaddrinfo('db', $P, socket.AF_INET, socket.SOCK_STREAM)[0][4]
once(again, 'again')"
back() {    # db is back at its old address, the new one rejects
	hu_unreject
	hu_s nft add rule inet hutest reject_rules ip daddr "$IP_NEW" tcp dport $P \
		reject with icmp type host-unreachable || hu_fail "reject the new address"
	echo "db=$IP_S" >"$REC"
	touch "$HU_TMP/back"
}
at_old
rm -f "$HU_TMP/back"
hu_after 0.5 move
hu_after_line "$HU_TMP/pool.out" "4 $HU_HELLO" 0 back
hu_run_shim pool "$POLICY" sh -c '"$0" -c "$1" "$2" "$3" | tee "$4"' "$HU_PY" "$POOL" \
	"$HU_TMP/moved" "$HU_TMP/back" "$HU_TMP/pool.out"
hu_assert_eq 0 "$HU_RC" "pool: every connection made ($HU_ERR)"
for i in 0 1 2 3 4; do
	hu_assert_contains "$HU_OUT" "$i $HU_HELLO $IP_NEW" "pool: connection $i reaches db at its new address"
done
hu_assert_contains "$HU_OUT" "again $HU_HELLO $IP_S" "pool: after db's name gives the old address again, it is used"
hu_assert_eq 2 "$(hu_nrecords pool readdressed)" "pool: two readdressed records (the move, then the remembered one)"
hu_assert_eq "null"$'\n'"true" "$(hu_field pool readdressed remembered)" "pool: the second (only) says remembered"
hu_assert_contains "$(hu_counts pool --op connect)" "recovered=1 gave_up=0" "pool: only the first connection failed and recovered"
after=$(sed -n '/"remembered":true/,$p' "$HU_TMP/pool.log" | grep -c '"event":"retry"')
hu_assert_eq 0 "$after" "pool: no retry after the move was remembered (no cut or failed try)"
hu_done
