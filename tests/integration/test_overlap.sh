#!/bin/bash
# SPDX-License-Identifier: MIT
# A Docker network that overlaps the target's network, told apart from a
# stopped container (docs/diagnosis.md, "A network that overlaps").
#
#   app ns ($NS_C)  hu-c0 198.18.0.1/16, default via 198.18.0.2
#        |  (the "bridge": a /16, as Docker's pools cut them)
#   router ($NS_S)  hu-s0 198.18.0.2/24, hu-r0 198.18.200.1/24, forwarding
#        |
#   db ($NS_D)      hu-d0 198.18.200.10/24, default via 198.18.200.1
#
# The db is inside the app's /16: the app's kernel ARPs for it on hu-c0,
# nobody answers, EHOSTUNREACH after ~3 s, with or without hostup.  The
# records and doctor name the overlap, the interface, the prefix and the
# fix.  With a /24 the same connect goes through the router.  A stopped
# on-link peer (198.18.0.3, named by the "embedded DNS") stays a link
# verdict.  Docker's embedded DNS is a stub on 127.0.0.11 in the app ns;
# Docker's pools are simulated with HOSTUP_DOCKER_POOLS for one case.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect
C=$HU_TOOLS/hu_connect
H=$HU_BUILD/hostup
P=5432
DB=198.18.200.10 PEER=198.18.0.3

hu_net_setup
NS_D=hu-d-$$
# shellcheck disable=SC2016
hu_at_exit 'hu__kill $(ip netns pids "$NS_D" 2>/dev/null); ip netns del "$NS_D" 2>/dev/null'

hu_d() { ip netns exec "$NS_D" "$@"; }
{
	ip netns add "$NS_D" &&
	ip link add hu-r0 netns "$NS_S" type veth peer name hu-d0 netns "$NS_D" &&
	ip -n "$NS_S" addr add 198.18.200.1/24 dev hu-r0 && ip -n "$NS_S" link set hu-r0 up &&
	ip -n "$NS_D" addr add "$DB/24" dev hu-d0 && ip -n "$NS_D" link set hu-d0 up &&
	ip -n "$NS_D" link set lo up && ip -n "$NS_D" route add default via 198.18.200.1 &&
	hu_s sysctl -qw net.ipv4.ip_forward=1 &&
	# the app's bridge: a /16 and a default route to the router
	ip -n "$NS_C" addr del "$IP_C/24" dev "$IF_C" &&
	ip -n "$NS_C" addr add "$IP_C/16" dev "$IF_C" &&
	ip -n "$NS_C" route add default via "$IP_S"
} || hu_fail "could not build the overlap topology"

# the db: answers every connection with a line
hu_d "$HU_PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[2].encode() + b"\n"); c.close()
' $P "$HU_HELLO" >>"$HU_TMP/db.log" 2>&1 &
hu__track $!
for ((i = 0; i < 50; i++)); do [[ -n $(hu_d ss -Hlnt "sport = :$P") ]] && break; sleep 0.1; done
[[ -n $(hu_d ss -Hlnt "sport = :$P") ]] || hu_fail "the db did not listen on port $P (see $HU_TMP/db.log)"

# "Docker's embedded DNS": a stub on 127.0.0.11 inside the app namespace
printf 'nameserver 127.0.0.11\noptions timeout:1 attempts:1\n' >"/etc/netns/$NS_C/resolv.conf"
hu_c "$HU_PY" "$HU_STUB_DNS" --addr 127.0.0.11 --port 53 \
	--record db.corp.example="$DB" --record peer="$PEER" 2>>"$HU_TMP/dns.log" &
hu__track $!
hu__wait_line "$HU_TMP/dns.log" "ready on 127.0.0.11:53" "the embedded DNS stub"

# jget EXPR JSON: a Python subscript of the JSON document, printed
jget() { "$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1" <<<"$2"; }
first_diag() { hu_field "$1" "$2" diagnosis | head -1; }   # NAME EVENT
doctor() { DOC=$(hu_c "$H" doctor --json "$1"); DOC_RC=$?; }
SHORT="* attempts=2 backoff=50ms..50ms"
arp_fails() { # WHAT: the last run failed as an ARP failure does
	hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "$1: EHOSTUNREACH"
	hu_assert_ge "$HU_MS" 2500 "$1: after the ARP timeout"
}

# --- the overlap: db.corp.example (a DNS name, forwarded by the embedded DNS)
hu_run "$C" db.corp.example $P
arp_fails "overlap, without hostup"
hu_run_shim overlap "$SHORT" "$C" db.corp.example $P
arp_fails "overlap, with hostup (the policy spent)"
d=$(first_diag overlap retry)
hu_assert_eq network "$(jget '["layer"]' "$d")" "overlap: record layer network"
cause=$(jget '["cause"]' "$d")
hu_assert_contains "$cause" "the network of $IF_C (198.18.0.0/16) overlaps the target's" "overlap: the interface and the prefix"
hu_assert_contains "$cause" "$DB is looked for on-link" "overlap: the target"
hu_assert_contains "$cause" "default via $IP_S dev $IF_C" "overlap: where it would have gone"
hu_assert_contains "$(jget '["fix"]' "$d")" "default-address-pools" "overlap: the fix (daemon.json)"
hu_assert_contains "$(jget '["fix"]' "$d")" "ipam" "overlap: the fix (compose)"
hu_assert_contains "$(jget '["next"]' "$d")" "ip route get $DB" "overlap: next command"
hu_assert_contains "$(jget '["next"]' "$d")" "docker network inspect NET --format '{{json .IPAM.Config}}'" "overlap: next on the host"
hu_assert_eq "[4, 6]" "$(jget '["checklist"]' "$d")" "overlap: checklist items 4 and 6"
hu_assert_eq link "$(jget '["alternatives"][0]["layer"]' "$d")" "overlap: the absent host ranked second"
hu_assert_eq "$IF_C" "$(jget '["evidence"]["overlap"]["dev"]' "$d")" "overlap evidence: dev"
hu_assert_eq "$IP_C/16" "$(jget '["evidence"]["overlap"]["addr"]' "$d")" "overlap evidence: our address"
hu_assert_contains "$(jget '["evidence"]["overlap"]["for"]' "$d")" "db.corp.example is a DNS name" "overlap evidence: the name"
# the network evidence: in the first record only
hu_assert_eq "198.18.0.0/16" "$(jget '["evidence"]["network"]["interfaces"][0]["subnet"]' "$d")" "network evidence: the subnet"
hu_assert_eq "$IP_S" "$(jget '["evidence"]["network"]["interfaces"][0]["gateway"]' "$d")" "network evidence: the gateway"
hu_assert_eq True "$(jget '["evidence"]["network"]["embedded_dns"]' "$d")" "network evidence: embedded DNS"
hu_assert_eq "['198.18.0.0/16 dev $IF_C scope link', 'default via $IP_S dev $IF_C']" \
	"$(jget '["evidence"]["network"]["routes_to_target"]' "$d")" "network evidence: the routes to the target"
d2=$(first_diag overlap gave_up)
hu_assert_eq network "$(jget '["layer"]' "$d2")" "overlap: gave_up record layer network too"
hu_assert_eq False "$(jget '.get("evidence",{}).get("network") is not None' "$d2")" "network evidence: not in the second record"
echo "record: $(grep -m1 '"retry"' "$HU_TMP/overlap.log")"

doctor "db.corp.example:$P"
hu_assert_eq 1 "$DOC_RC" "overlap: doctor exits 1"
hu_assert_eq network "$(jget '["verdict"]["layer"]' "$DOC")" "overlap: doctor layer network"
hu_assert_contains "$(jget '["verdict"]["cause"]' "$DOC")" "the network of $IF_C (198.18.0.0/16) overlaps" "overlap: doctor cause"
hu_assert_contains "$(jget '["verdict"]["fix"]' "$DOC")" "default-address-pools" "overlap: doctor fix"
steps=$(jget '["steps"]' "$DOC")
hu_assert_contains "$steps" "$IF_C $IP_C/16 (subnet 198.18.0.0/16, gateway $IP_S)" "doctor: the network line"
hu_assert_contains "$steps" "198.18.0.0/16 dev $IF_C scope link | default via $IP_S dev $IF_C" "doctor: the routes line"
hu_c "$H" doctor "db.corp.example:$P" | tee "$HU_TMP/doctor.txt"
hu_assert_contains "$(cat "$HU_TMP/doctor.txt")" "likely cause (network)" "doctor text: the overlap"
hu_assert_contains "$(cat "$HU_TMP/doctor.txt")" "less likely (link): on-link host does not answer ARP/ND" "doctor text: the alternative"

# --- an address, no name: only Docker's pools (simulated) say overlap
hu_run_shim byaddr "$SHORT" "$C" "$DB" $P
arp_fails "by address"
d=$(first_diag byaddr retry)
hu_assert_eq link "$(jget '["layer"]' "$d")" "by address, not a Docker pool: the absent host first"
hu_assert_eq network "$(jget '["alternatives"][0]["layer"]' "$d")" "by address: the overlap second"
HOSTUP_DOCKER_POOLS=198.18.0.0/15:16 hu_run_shim bypool "$SHORT" "$C" "$DB" $P
d=$(first_diag bypool retry)
hu_assert_eq network "$(jget '["layer"]' "$d")" "by address in a Docker pool: the overlap first"
hu_assert_contains "$(jget '["evidence"]["overlap"]["for"]' "$d")" "198.18.0.0/16 is in the Docker address pools" "pool evidence"

# --- a stopped on-link peer: a container's name from the embedded DNS
hu_run_shim peer "$SHORT" "$C" peer $P
arp_fails "stopped peer"
d=$(first_diag peer retry)
hu_assert_eq link "$(jget '["layer"]' "$d")" "stopped peer: layer link"
hu_assert_eq "on-link host does not answer ARP/ND" "$(jget '["cause"]' "$d")" "stopped peer: the absent host"
hu_assert_contains "$(jget '["fix"]' "$d")" "docker start" "stopped peer: the fix starts it"
hu_assert_contains "$(jget '["evidence"]["overlap"]["against"]' "$d")" "peer is a container's or service's name" "stopped peer: why not an overlap"
doctor "peer:$P"
hu_assert_eq link "$(jget '["verdict"]["layer"]' "$DOC")" "stopped peer: doctor layer link"

# --- the same topology with a /24: the db is routed, and answers
ip -n "$NS_C" addr del "$IP_C/16" dev "$IF_C"
ip -n "$NS_C" addr add "$IP_C/24" dev "$IF_C"
ip -n "$NS_C" route add default via "$IP_S"
hu_run "$C" db.corp.example $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "/24: connects without hostup"
hu_run_shim narrow "$SHORT" "$C" db.corp.example $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "/24: connects with hostup"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(hu_counts narrow)" "/24: no records"
doctor "db.corp.example:$P"
hu_assert_eq 0 "$DOC_RC" "/24: doctor exits 0"
hu_done
