#!/bin/bash
# SPDX-License-Identifier: MIT
# IPv6 gets the evidence and the classification IPv4 gets (issue 19), in
# the records and in `hostup doctor`:
#   - the server's ICMPv6 administratively prohibited (EACCES) names its
#     sender, layer firewall, not "a local firewall";
#   - the target's own ICMPv6 address-unreachable is its firewall (layer
#     firewall, as IPv4's host-unreachable from the target), with the ICMP
#     error in the evidence (IPV6_RECVERR set for hostup's tries);
#   - doctor's ICMPv6 echo works as root (a raw socket);
#   - a dual-stack name whose IPv6 address refuses is reachable over IPv4:
#     doctor tries each address.
# Addresses: 2001:2::/48 (benchmarking) and 198.18.0.0/15 only.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect
C=$HU_TOOLS/hu_connect
H=$HU_BUILD/hostup
P=8080
V6_C=2001:2::1 V6_S=2001:2::2

hu_net_setup
ip -n "$NS_C" addr add "$V6_C/64" dev "$IF_C" nodad || hu_fail "client IPv6 address"
ip -n "$NS_S" addr add "$V6_S/64" dev "$IF_S" nodad || hu_fail "server IPv6 address"
hu_s sysctl -qw net.ipv6.icmp.ratelimit=0
hu_serve_tcp $P     # IPv4 only: over IPv6 the port refuses
for _ in $(seq 50); do hu_c ping -6 -c1 -W1 "$V6_S" >/dev/null 2>&1 && break; sleep 0.1; done

jget() { "$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
diag() { hu_field "$1" "$2" diagnosis | head -1 | jget "[\"$3\"]"; }
doctor() { DOC=$(ip netns exec "$NS_C" "$H" doctor --json --timeout 2s "$1"); DOC_RC=$?; }
verdict() { jget "[\"verdict\"][\"$1\"]" <<<"$DOC"; }
step_detail() { jget "[\"steps\"]" <<<"$DOC" | "$HU_PY" -c 'import ast,sys; print([s["detail"] for s in ast.literal_eval(sys.stdin.read()) if s["name"] == sys.argv[1]][0])' "$1"; }
SHORT="* attempts=2 backoff=50ms..50ms"

# --- the server's ICMPv6 administratively prohibited
hu_s nft add rule inet hutest reject_rules ip6 daddr $V6_S tcp dport 8097 reject with icmpv6 type admin-prohibited
hu_run_shim prohibited "$SHORT retry_on=+EACCES" "$C" $V6_S 8097
hu_assert_eq "error EACCES" "$HU_OUT" "ICMPv6 prohibited: EACCES, as without hostup"
want="ICMPv6 administratively prohibited (code 1) from $V6_S"
hu_assert_eq firewall "$(diag prohibited gave_up layer)" "ICMPv6 prohibited: record layer firewall"
hu_assert_eq "$want" "$(diag prohibited gave_up cause)" "ICMPv6 prohibited: the record names the sender"
doctor "[$V6_S]:8097"
hu_assert_eq 1 "$DOC_RC" "ICMPv6 prohibited: doctor exits 1"
hu_assert_eq "$want" "$(verdict cause)" "ICMPv6 prohibited: doctor names the sender"

# --- the target's own ICMPv6 address unreachable: its firewall
hu_s nft add rule inet hutest reject_rules ip6 daddr $V6_S tcp dport 8096 reject with icmpv6 type addr-unreachable
hu_run_shim own "$SHORT" "$C" $V6_S 8096
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "target's own reject: EHOSTUNREACH"
hu_assert_eq firewall "$(diag own gave_up layer)" "target's own reject: record layer firewall"
hu_assert_contains "$(diag own gave_up cause)" "the target itself answered" "target's own reject: record cause"
hu_assert_contains "$(hu_field own gave_up diagnosis | head -1)" "type 1 code 3 from $V6_S" \
	"target's own reject: the ICMPv6 error is in the evidence"
hu_assert_eq firewall "$(diag own retry layer)" "target's own reject: the first record too (ND answered)"
doctor "[$V6_S]:8096"
hu_assert_eq firewall "$(verdict layer)" "target's own reject: doctor layer firewall"
hu_assert_contains "$(step_detail "tcp connect")" "ICMP from $V6_S" "target's own reject: doctor shows the ICMP sender"
hu_unreject

# --- ICMPv6 echo as root
doctor "$V6_S"
hu_assert_contains "$(step_detail "icmp echo")" "$V6_S answers ping" "doctor: ICMPv6 echo as root"

# --- a dual-stack name: IPv6 refuses, IPv4 accepts
printf '%s dual\n%s dual\n' "$V6_S" "$IP_S" >"/etc/netns/$NS_C/hosts"
doctor "dual:$P"
hu_assert_contains "$(step_detail resolve)" "$V6_S $IP_S" "dual-stack name: IPv6 first, as clients try it"
hu_assert_eq 0 "$DOC_RC" "dual-stack name: doctor exits 0 (reachable over IPv4)"
hu_assert_eq True "$(verdict reachable)" "dual-stack name: verdict reachable"
hu_assert_contains "$(verdict cause)" "at $IP_S (address 2 of dual)" "dual-stack name: says which address"
hu_assert_eq 2 "$(jget '["verdict"]["addresses"]' <<<"$DOC" | "$HU_PY" -c 'import ast,sys; print(len(ast.literal_eval(sys.stdin.read())))')" \
	"dual-stack name: each address's outcome"
hu_run env LD_PRELOAD="$HU_PRELOAD" "$C" dual $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "dual-stack name: a client reaches it over IPv4"
hu_done
