#!/bin/bash
# SPDX-License-Identifier: MIT
# getaddrinfo() retries against a stub DNS server, and rules by host name
# applied to connect() through the name the lookup produced.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_connect
C=$HU_TOOLS/hu_connect
P=8080

hu_net_setup
hu_serve_tcp $P

# --- SERVFAIL for 2 s, then the address: getaddrinfo succeeds under hostup.
hu_dns_start --servfail-for 60 --record db="$IP_S"
hu_run "$C" db $P
hu_assert_eq "error EAI_AGAIN" "$HU_OUT" "SERVFAIL without hostup: EAI_AGAIN"
hu_dns_stop
hu_dns_start --servfail-for 2 --record db="$IP_S"
hu_run_shim servfail "* attempts=40 backoff=100ms..300ms" "$C" db $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "SERVFAIL for 2 s: connects under hostup"
counts=$(hu_counts servfail --op getaddrinfo)
hu_assert_contains "$counts" "recovered=1 gave_up=0" "lookup recovered"
hu_assert_eq EAI_AGAIN "$(hu_field servfail retry errno | sort -u)" "lookup retries were for EAI_AGAIN"
hu_assert_eq db "$(hu_field servfail recovered host)" "lookup record names the host"
hu_assert_eq dns "$(hu_field servfail retry diagnosis | head -1 | "$HU_PY" -c 'import json,sys; print(json.load(sys.stdin)["layer"])')" \
	"lookup failure diagnosed at the dns layer"
hu_assert_contains "$(hu_field servfail retry diagnosis | head -1)" "$IP_S" "diagnosis names the nameserver"

# --- NXDOMAIN (a compose service not started yet): no retry unless asked.
hu_dns_stop
hu_dns_start --nxdomain-for 2 --record db="$IP_S"
hu_run_shim nx_default "* attempts=40 backoff=100ms..300ms" "$C" db $P
hu_assert_eq "error EAI_NONAME" "$HU_OUT" "NXDOMAIN is not retried by default"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=0" "$(hu_counts nx_default)" "no records for a failure no rule retries"
hu_dns_stop
hu_dns_start --nxdomain-for 2 --record db="$IP_S"
hu_run_shim nx_rule "db attempts=40 backoff=100ms..300ms retry_on=+EAI_NONAME" "$C" db $P
hu_assert_eq "$HU_HELLO" "$HU_OUT" "retry_on=+EAI_NONAME waits for the name to appear"
hu_assert_eq EAI_NONAME "$(hu_field nx_rule retry errno | sort -u)" "retries were for EAI_NONAME"

# --- gethostbyname (python3's socket.gethostbyname uses it)
hu_dns_stop
hu_dns_start --servfail-for 2 --record db="$IP_S"
hu_run_shim ghbn "* attempts=40 backoff=100ms..300ms" "$HU_PY" -c "import socket; print(socket.gethostbyname('db'))"
hu_assert_eq "$IP_S" "$HU_OUT" "python3 gethostbyname survives SERVFAIL"
hu_assert_contains "$(hu_counts ghbn)" "recovered=1" "gethostbyname recovered"

# --- a rule by host name applies to connect() to that host's address ...
hu_dns_stop
hu_dns_start --record db="$IP_S"
hu_reject $P
hu_run_shim byname "db:$P attempts=1; * attempts=5 backoff=50ms..100ms" "$C" db $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "name rule: connect fails at once"
hu_assert_eq "retry=0 recovered=0 gave_up=1 config_error=0" "$(hu_counts byname --op connect)" "name rule: one try"
hu_assert_eq "db:$P attempts=1" "$(hu_field byname gave_up rule)" "the db rule matched"
hu_assert_eq db "$(hu_field byname gave_up host)" "connect record names the host"
# ... and not to the same address reached without the name.
hu_run_shim byaddr "db:$P attempts=1; * attempts=5 backoff=50ms..100ms" "$C" "$IP_S" $P
hu_assert_eq "retry=4 recovered=0 gave_up=1 config_error=0" "$(hu_counts byaddr)" "address without name: the * rule"
hu_assert_eq "* attempts=5 backoff=50ms..100ms" "$(hu_field byaddr gave_up rule)" "the * rule matched"
# a glob on the name works too
hu_run_shim byglob "d?:$P attempts=2 backoff=10ms..10ms; * attempts=5" "$C" db $P
hu_assert_eq "retry=1 recovered=0 gave_up=1 config_error=0" "$(hu_counts byglob --op connect)" "glob name rule"
hu_unreject

# --- NULL node / numeric hosts behave as in libc.
hu_run_shim numeric "* attempts=3" "$HU_PY" -c "
import socket
print(socket.getaddrinfo('$IP_S', $P, type=socket.SOCK_STREAM)[0][4])
print(socket.getaddrinfo(None, $P, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][4][1])"
hu_assert_eq "('$IP_S', $P)"$'\n'"$P" "$HU_OUT" "numeric and NULL node"
hu_done
