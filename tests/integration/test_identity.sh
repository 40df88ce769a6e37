#!/bin/bash
# SPDX-License-Identifier: MIT
# A socket's state belongs to that socket (fd numbers are reused): a
# program abandons a connect to A (port 8080, down) and closes the socket
# in a way the library does not see (node/libuv's syscall(SYS_close),
# close_range, closefrom, a close inside a RTLD_DEEPBIND library, exec);
# the next socket or pipe that gets the same number must behave exactly as
# without hostup: a connect to B (port 7001) reaches B, a pipe is readable.
# Also node's fetch() to a dual-stack name whose IPv6 address drops SYNs
# (happy eyeballs: the IPv6 socket is abandoned, the IPv4 one gets its
# number), and a UDP connect to a target the herd state marks as failing.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_cmd node
hu_need_lib
hu_need_tools hu_identity hu_connect
T=$HU_TOOLS/hu_identity
A=8080 B=7001
POLICY="* attempts=20 backoff=100ms..200ms deadline=20s"

hu_net_setup
serve_as() { # PORT TEXT: answers every connection with TEXT
	hu_s "$HU_PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.sendall(sys.argv[2].encode() + b"\n")
    except OSError:
        pass
    c.close()' "$1" "$2" >>"$HU_TMP/serve_$1.log" 2>&1 &
	hu__track $!
	hu__wait_listen tcp "$1"
}
serve_as $A "I am A"
serve_as $B "I am B"
# A down: its SYNs vanish (drop), or are refused with ICMP (reject)
down() {
	hu_s nft flush chain inet hutest hostdown_rules || hu_fail "flush"
	hu_unreject
	case $1 in
	drop) hu_s nft add rule inet hutest hostdown_rules tcp dport $A 'tcp flags & (syn|ack) == syn' drop ||
		hu_fail "drop $A" ;;
	reject) hu_reject $A ;;
	esac
}

# the connect to B met nothing of A's: it needed no retry (no record names B)
clean_b() { # NAME MSG
	hu_assert_eq 0 "$(grep -c "\"port\":$B[,}]" "$HU_TMP/$1.log")" "$2: no record for B's port"
}

# --- node (libuv closes with syscall(SYS_close)): abandon A after 300 ms, connect to B
NODE_AB="const net = require('net');
const a = net.connect($A, '$IP_S');
a.on('error', () => {});
setTimeout(() => {
  a.destroy();
  const b = net.connect($B, '$IP_S');
  let got = '';
  b.on('data', d => got += d);
  b.on('end', () => console.log('reply: ' + got.trim()));
  b.on('error', e => { console.log('error ' + e.code); process.exit(1); });
  b.setTimeout(3000, () => { console.log('timeout'); process.exit(1); });
}, 300);"
for how in drop reject; do
	down $how
	hu_run node -e "$NODE_AB"
	hu_assert_eq "reply: I am B" "$HU_OUT" "node, A $how, without hostup: B answers"
	hu_run_shim "node_$how" "$POLICY" node -e "$NODE_AB"
	hu_assert_eq "reply: I am B" "$HU_OUT" "node, A $how, with hostup: the new socket reaches B"
	clean_b "node_$how" "node, A $how"
done

# --- C: the old socket closed behind the library's back, a new one at its number
for how in drop reject; do
	down $how
	hu_run "$T" syscall connect "$IP_S" $A $B
	hu_assert_eq "connected: I am B" "$HU_OUT" "C, A $how, without hostup: B answers"
	for closer in syscall close_range closefrom deepbind exec; do
		# the library's dlopen drops RTLD_DEEPBIND (wrap/dlopen.c); keep it
		# here, so that this close() stays one no wrapper sees
		if [[ $closer == deepbind ]]; then export HOSTUP_DEEPBIND=keep; else unset HOSTUP_DEEPBIND; fi
		hu_run_shim "c_${how}_$closer" "$POLICY" "$T" $closer connect "$IP_S" $A $B
		unset HOSTUP_DEEPBIND
		hu_assert_eq "connected: I am B" "$HU_OUT" "C, A $how, closed by $closer: the new socket reaches B"
		clean_b "c_${how}_$closer" "C, A $how, closed by $closer"
		[[ $HU_ERR == *"note: the new"* ]] && hu_fail "$closer: the number was not reused ($HU_ERR)"
	done
done
# what the number is used for next: a socket hostup never saw created, a
# socket left idle while the loop waits, a pipe waited on with poll or epoll
down reject
for next in rawconnect epoll-idle; do
	hu_run_shim "c_$next" "$POLICY" "$T" syscall $next "$IP_S" $A $B
	hu_assert_eq "connected: I am B" "$HU_OUT" "C, A reject, then $next: reaches B"
	clean_b "c_$next" "C, A reject, then $next"
done
hu_run_shim c_so_error "$POLICY" "$T" syscall so_error "$IP_S" $A $B
hu_assert_eq "so_error 0" "$HU_OUT" "C, A reject, then SO_ERROR of a new socket: 0"
# a backoff long enough that the old socket waits for its next try all along
for next in pipe-poll pipe-epoll; do
	hu_run "$T" syscall $next "$IP_S" $A $B
	hu_assert_eq "readable" "$HU_OUT" "C, A reject, then $next without hostup: readable at once"
	hu_run_shim "c_$next" "* attempts=20 backoff=1s..1s jitter=none" "$T" syscall $next "$IP_S" $A $B
	hu_assert_eq "readable" "$HU_OUT" "C, A reject, then $next with hostup: readable at once, no POLLERR"
	[[ $HU_ERR == *"note: the pipe"* ]] && hu_fail "$next: the number was not reused ($HU_ERR)"
done
down none

# --- node fetch() to a dual-stack name whose IPv6 address drops SYNs (happy
# eyeballs: IPv4 is tried after 250 ms, on a new socket with the same number).
# Happy eyeballs came with node 20; Debian 12's own node is 18: skipped there.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
if [[ ! $node_major =~ ^[0-9]+$ ]] || ((node_major < 20)); then
	hu_skip "node fetch() to a dual-stack name: node ${node_major:-?} tries only the first address (happy eyeballs came with node 20)"
else
	ip -n "$NS_C" addr add 2001:2::1/64 dev "$IF_C" nodad || hu_fail "client IPv6 address"
	ip -n "$NS_S" addr add 2001:2::2/64 dev "$IF_S" nodad || hu_fail "server IPv6 address"
	printf '127.0.0.1 localhost\n2001:2::2 dual\n%s dual\n' "$IP_S" >"/etc/netns/$NS_C/hosts"
	H=8082
	hu_serve_http $H
	hu_s nft add rule inet hutest hostdown_rules ip6 daddr 2001:2::2 tcp dport $H drop || hu_fail "drop IPv6"
	FETCH="const t0 = Date.now();
	fetch('http://dual:$H$HU_HTTP_PATH').then(r => r.text()).then(t => console.log(t.trim() + ' ms=' + (Date.now() - t0)))
	  .catch(e => { console.log('error ' + (e.cause ? e.cause.name + ' ' + ((e.cause.errors || []).map(x => x.code).join(',') || e.cause.code) : e.message)); process.exit(1); });"
	hu_assert_eq "2001:2::2" "$(hu_c getent ahostsv6 dual | awk 'NR == 1 {print $1}')" "dual resolves IPv6 first"
	hu_run node -e "$FETCH"
	hu_assert_contains "$HU_OUT" "$HU_HTTP_BODY ms=" "fetch without hostup: IPv4 after the IPv6 attempt"
	bare=${HU_OUT##*ms=}
	hu_run_shim fetch "$POLICY" node -e "$FETCH"
	hu_assert_contains "$HU_OUT" "$HU_HTTP_BODY ms=" "fetch with hostup: IPv4 after the IPv6 attempt"
	hu_assert_le "${HU_OUT##*ms=}" $((2 * bare)) "fetch with hostup: within twice the time without (ms)"
	hu_s nft flush chain inet hutest hostdown_rules
fi

# --- UDP connect to a target the herd state marks as failing: never touched
UDP="import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(('$IP_S', $A))
print('udp connected')"
hu_reject $A
ip netns exec "$NS_C" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="* attempts=100 backoff=200ms..200ms deadline=20s" \
	HOSTUP_LOG="$HU_TMP/prober.log" "$HU_TOOLS/hu_connect" "$IP_S" $A >/dev/null 2>&1 &
hu__track $!
hu__wait_line "$HU_TMP/prober.log" '"event":"retry"' "the prober"
hu_run_shim udp "$POLICY" "$HU_PY" -c "$UDP"
hu_assert_eq "udp connected" "$HU_OUT" "UDP connect to a failing target: connected, as without hostup"
hu_run_shim tcp_waits "* attempts=3 backoff=100ms..100ms deadline=5s" "$HU_TOOLS/hu_connect" "$IP_S" $A
hu_assert_contains "$(hu_counts tcp_waits)" "gave_up=1" "a TCP connect to it still waits for the prober"
hu_assert_ne "" "$(hu_field tcp_waits probe_wait errno)" "the TCP connect's probe_wait record"
hu_unreject
hu_done
