#!/bin/bash
# SPDX-License-Identifier: MIT
# Non-blocking connects whose failure arrives through poll/select/epoll or
# SO_ERROR: curl, python3 (socket with timeout, asyncio), node (net, http),
# and a C client for edge cases.  Each target is down for about 4 s; with
# hostup the program completes, without it fails; a target that never
# recovers fails within the deadline plus one try, with the usual message.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_cmd curl
hu_need_lib
hu_need_tools hu_evloop hu_icmp_hostdown
E=$HU_TOOLS/hu_evloop
P=8080
URL="http://$IP_S:$P$HU_HTTP_PATH"
POLICY="* attempts=40 backoff=100ms..500ms deadline=30s"
SHORT="* attempts=3 backoff=100ms..200ms deadline=10s"
CURL=(curl -sS --noproxy '*' --max-time 60)

hu_net_setup
hu_serve_http $P

outage() { hu_reject $P; hu_after 4 hu_unreject; } # ICMP reject for 4 s
recovered() { # NAME MSG: one recovered record after retries
	local c
	c=$(hu_counts "$1")
	hu_assert_contains "$c" "recovered=1 gave_up=0" "$2: records"
	[[ $c == retry=0* ]] && hu_fail "$2: no retry record"
	return 0
}

# --- curl: EHOSTUNREACH, EHOSTDOWN, ARP; decides from poll revents alone
hu_reject $P
hu_run "${CURL[@]}" "$URL"
hu_assert_eq 7 "$HU_RC" "curl without hostup fails (exit 7)"
hu_unreject
outage
hu_run_shim curl "$POLICY" "${CURL[@]}" "$URL"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl with hostup survives a 4 s ICMP reject"
recovered curl "curl reject"
hu_hostdown $P
hu_after 4 hu_unhostdown
hu_run_shim curl_down "$POLICY" "${CURL[@]}" "$URL"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl with hostup survives EHOSTDOWN"
hu_assert_eq EHOSTDOWN "$(hu_field curl_down retry errno | sort -u)" "curl: retries were for EHOSTDOWN"
hu_absent_appear 4 $P
hu_run_shim curl_arp "$POLICY" "${CURL[@]}" "http://$IP_ABSENT:$P$HU_HTTP_PATH"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl with hostup survives an ARP outage"
hu_reject $P
hu_run_shim curl_dead "* attempts=3 backoff=100ms..200ms deadline=2s" "${CURL[@]}" "$URL"
hu_assert_eq 7 "$HU_RC" "curl, never recovers: exit 7"
hu_assert_contains "$HU_ERR" "Couldn't connect to server" "curl, never recovers: usual message"
hu_assert_lt "$HU_MS" 3000 "curl, never recovers: within deadline plus one try"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts curl_dead)" "curl, never recovers: records"
hu_unreject

# --- curl with two addresses for one name (its own happy-eyeballs/next-address logic)
ip -n "$NS_S" addr add 198.18.0.4/24 dev "$IF_S"
MULTI=(--resolve "multi:$P:$IP_S,198.18.0.4" "http://multi:$P$HU_HTTP_PATH")
hu_reject $P
hu_run "${CURL[@]}" "${MULTI[@]}"
hu_assert_eq 7 "$HU_RC" "curl, both addresses down, without hostup: fails"
hu_after 4 hu_unreject
hu_run_shim curl_multi "$POLICY" "${CURL[@]}" "${MULTI[@]}"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl, both addresses down for 4 s, with hostup: succeeds"
# one address stays down: curl moves to the next address only when the first
# fails, and hostup hides that failure for as long as the policy allows
hu_s nft add rule inet hutest reject_rules ip daddr "$IP_S" tcp dport $P reject with icmp type host-unreachable
hu_run "${CURL[@]}" "${MULTI[@]}"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl, first address dead, without hostup: falls over to the second at once"
hu_run_shim curl_fallover "* attempts=3 backoff=100ms..200ms" "${CURL[@]}" "${MULTI[@]}"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "curl, first address dead, with hostup: falls over once the policy gives up"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts curl_fallover)" "curl fall-over: the dead address was retried, then handed back"
hu_unreject

# --- python3: socket.create_connection(timeout=30) and asyncio, with a 20 ms timer
PYSOCK="import socket
s = socket.create_connection(('$IP_S', $P), timeout=30)
s.sendall(b'GET $HU_HTTP_PATH HTTP/1.0\r\n\r\n')
print(s.makefile('rb').read().decode().split('\r\n\r\n', 1)[1].strip())"
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
    w.write(b'GET $HU_HTTP_PATH HTTP/1.0\r\n\r\n')
    body = (await r.read()).decode().split('\r\n\r\n', 1)[1].strip()
    t.cancel()
    print(body)
    print('max_gap_ms', int(max(gaps) * 1000), 'ticks', len(gaps))
asyncio.run(main())"
hu_reject $P
hu_run "$HU_PY" -c "$PYSOCK"
hu_assert_contains "$HU_ERR" "No route to host" "python3 socket timeout=30 without hostup: fails"
hu_unreject
outage
hu_run_shim pysock "$POLICY" "$HU_PY" -c "$PYSOCK"
hu_assert_eq "$HU_HTTP_BODY" "$HU_OUT" "python3 create_connection(timeout=30) with hostup"
recovered pysock "python3 socket"
outage
hu_run_shim pyasync "$POLICY" "$HU_PY" -c "$PYASYNC"
hu_assert_eq "$HU_HTTP_BODY" "$(head -1 <<<"$HU_OUT")" "python3 asyncio with hostup"
gap=$(sed -n 's/^max_gap_ms \([0-9]*\).*/\1/p' <<<"$HU_OUT")
ticks=$(sed -n 's/.* ticks \([0-9]*\)/\1/p' <<<"$HU_OUT")
hu_assert_lt "$gap" 100 "asyncio: the 20 ms timer kept firing during the outage (longest gap)"
hu_assert_gt "$ticks" 100 "asyncio: the timer ran throughout the 4 s"
recovered pyasync "python3 asyncio"
hu_reject $P
hu_run_shim pyasync_dead "$SHORT" "$HU_PY" -c "$PYASYNC"
hu_assert_contains "$HU_ERR" "[Errno 113]" "asyncio, never recovers: the usual OSError"
hu_assert_contains "$(hu_counts pyasync_dead)" "gave_up=1" "asyncio, never recovers: gave_up"
hu_unreject

# --- node: net.connect and http.get, with a 20 ms setInterval
NODEJS="const net = require('net'), http = require('http');
let last = Date.now(), maxGap = 0, ticks = 0;
const iv = setInterval(() => { const n = Date.now(); maxGap = Math.max(maxGap, n - last); last = n; ticks++; }, 20);
const done = (s) => { clearInterval(iv); console.log(s); console.log('max_gap_ms ' + maxGap + ' ticks ' + ticks); };
if (process.argv[1] === 'net') {
  const s = net.connect($P, '$IP_S', () => s.write('GET $HU_HTTP_PATH HTTP/1.0\r\n\r\n'));
  let buf = ''; s.on('data', d => buf += d); s.on('end', () => done(buf.split('\r\n\r\n')[1].trim()));
  s.on('error', e => { clearInterval(iv); console.error('ERR ' + e.code); process.exit(1); });
} else {
  http.get('$URL', r => { let b = ''; r.on('data', d => b += d); r.on('end', () => done(b.trim())); })
    .on('error', e => { clearInterval(iv); console.error('ERR ' + e.code); process.exit(1); });
}"
if hu_have_cmd "node net.connect and http.get" node; then
hu_reject $P
hu_run node -e "$NODEJS" net
hu_assert_eq "ERR EHOSTUNREACH" "$HU_ERR" "node net.connect without hostup: EHOSTUNREACH"
hu_unreject
for kind in net http; do
	outage
	hu_run_shim "node_$kind" "$POLICY" node -e "$NODEJS" $kind
	hu_assert_eq "$HU_HTTP_BODY" "$(head -1 <<<"$HU_OUT")" "node $kind with hostup"
	gap=$(sed -n 's/^max_gap_ms \([0-9]*\).*/\1/p' <<<"$HU_OUT")
	hu_assert_lt "$gap" 100 "node $kind: setInterval(20) longest gap during the outage"
	recovered "node_$kind" "node $kind"
done
hu_reject $P
hu_run_shim node_dead "$SHORT" node -e "$NODEJS" http
hu_assert_eq "ERR EHOSTUNREACH" "$HU_ERR" "node, never recovers: the usual error"
hu_assert_contains "$(hu_counts node_dead)" "gave_up=1" "node, never recovers: gave_up"
hu_unreject
fi

# --- C edge cases: each wait style, fd tricks, IPv6
hu_serve_tcp 8090
for mode in poll select epoll-lt epoll-et epoll-oneshot epoll-early dup2; do
	hu_reject 8090
	hu_run "$E" $mode "$IP_S" 8090
	hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "C $mode without hostup: fails"
	hu_after 4 hu_unreject
	hu_run_shim "c_$mode" "$POLICY" "$E" $mode "$IP_S" 8090
	hu_assert_eq "connected: $HU_HELLO" "$HU_OUT" "C $mode with hostup"
	gap=$(sed -n 's/.*max_gap_ms=\([0-9]*\).*/\1/p' <<<"$HU_ERR")
	hu_assert_lt "$gap" 100 "C $mode: the loop's 20 ms timeout kept firing"
	recovered "c_$mode" "C $mode"
	sleep 0.3
done
# close during a retry, then the same fd number for a live target
hu_serve_tcp 8091
hu_reject 8090
hu_run_shim c_close "$POLICY" "$E" close "$IP_S" 8090 8091
hu_assert_eq "connected: $HU_HELLO" "$HU_OUT" "C close-during-retry: the reused fd connects to the live port"
hu_unreject
# never recovers: the program sees the original failure, as without hostup
hu_reject 8090
hu_run_shim c_dead "$SHORT" "$E" poll "$IP_S" 8090
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "C poll, never recovers: POLLERR and SO_ERROR EHOSTUNREACH"
hu_unreject
# IPv6 (documentation prefix, inside the namespaces only)
ip -n "$NS_C" addr add 2001:db8::1/64 dev "$IF_C" nodad
ip -n "$NS_S" addr add 2001:db8::2/64 dev "$IF_S" nodad
hu_s "$HU_PY" -c '
import socket
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 8096)); s.listen(8)
while True:
    c, _ = s.accept(); c.sendall(b"hello over ipv6\n"); c.close()' &
hu__track $!
sleep 0.5
hu_s nft add rule inet hutest reject_rules ip6 nexthdr tcp tcp dport 8096 reject with icmpv6 type addr-unreachable
hu_run "$E" poll 2001:db8::2 8096
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "IPv6 without hostup: fails"
hu_after 4 hu_unreject
hu_run_shim c_v6 "$POLICY" "$E" poll 2001:db8::2 8096
hu_assert_eq "connected: hello over ipv6" "$HU_OUT" "IPv6 with hostup"
recovered c_v6 "IPv6"
hu_done
