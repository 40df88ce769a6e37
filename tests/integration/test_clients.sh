#!/bin/bash
# SPDX-License-Identifier: MIT
# Programs nobody had tested, each against real servers in the server
# namespace: wget and Ruby Net::HTTP (python's http.server), Perl
# IO::Socket::INET with and without a Timeout (a line server), openssl
# s_client (openssl s_server), git clone over git:// (git daemon) and
# redis-cli (redis-server).
#
# Each one rides out a 4 s outage (ICMP host-unreachable) with hostup, and
# against a target that never recovers prints the same error message and
# exits with the same status as without hostup (the strings are compared;
# openssl's lines lose only their thread-id prefix, which differs per run).
#
# Two ways a target never recovers:
#   - blocking clients (wget, perl, openssl, git): the server rate-limits
#     its ICMP errors (the kernel's default, 1/s after a burst of 6), so
#     some of hostup's tries get no answer and the deadline comes during one
#     of them.  Such a cut try must not surface as ETIMEDOUT (issue 13).
#   - clients that call connect() again to learn the outcome (Ruby, Perl
#     with Timeout, redis-cli/hiredis): every SYN is answered, so the
#     failure is handed back on a soft ICMP error with the SYN still in
#     flight, where the kernel answers that second connect() with EALREADY.
# The runs without hostup are made with every SYN answered: that is what a
# single try meets whenever the server's ICMP budget is full, so the
# baseline does not depend on how much of the budget earlier runs spent.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_cmd wget perl openssl git redis-server redis-cli ruby
HTTP=8080 LINE=8081 TLS=4433 GIT=9418 REDIS=6379
POLICY="* attempts=40 backoff=100ms..500ms deadline=30s"
DEAD="* attempts=40 backoff=100ms..400ms deadline=3s"
DEAD_MS=3000 ONE_TRY_MS=1500

hu_net_setup
hu_serve_http $HTTP
hu_serve_tcp $LINE
export HOME=$HU_TMP GIT_CONFIG_NOSYSTEM=1
(
	cd "$HU_TMP" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout key.pem -out cert.pem -days 2 -subj /CN=hostup-test 2>/dev/null &&
	git init -q -b main --bare git/repo.git && git init -q -b main src &&
	echo "$HU_HELLO" >src/hello.txt && git -C src add hello.txt &&
	git -C src -c user.name=t -c user.email=t@example.org commit -qm one &&
	git -C src push -q ../git/repo.git main
) || hu_fail "could not make the certificate and the git repository"
hu_s openssl s_server -accept $TLS -cert "$HU_TMP/cert.pem" -key "$HU_TMP/key.pem" -quiet \
	>>"$HU_TMP/s_server.log" 2>&1 &
hu__track $!
hu_s git daemon --reuseaddr --listen="$IP_S" --port=$GIT --base-path="$HU_TMP/git" --export-all \
	>>"$HU_TMP/git_daemon.log" 2>&1 &
hu__track $!
hu_s redis-server --port $REDIS --bind "$IP_S" --save '' --appendonly no --protected-mode no \
	>>"$HU_TMP/redis.log" 2>&1 &
hu__track $!
for p in $TLS $GIT $REDIS; do hu__wait_listen tcp $p; done

icmp_budget() { # on|off: the kernel's default ICMP rate limit in the server
	if [[ $1 == on ]]; then hu_s sysctl -qw net.ipv4.icmp_ratelimit=1000 net.ipv4.icmp_msgs_per_sec=1000
	else hu_s sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000; fi
}
# what is compared: stderr without openssl's per-thread prefix, stdout, status
seen() { printf '%s\n%s\nexit %s' "$(sed -E 's/^[0-9A-F]+:error:/error:/' <<<"$HU_ERR")" "$HU_OUT" "$HU_RC"; }

# client NAME PORT CHECK MODE CMD...: CHECK is a shell test run on
# $HU_OUT/$HU_ERR after the run through the outage; MODE is blocking or
# reconnect (see the top).  CONNECTS: how many connects the program itself
# makes before it gives up (redis-cli tries twice), each with its own
# round of hostup's tries.
client() {
	local name=$1 port=$2 check=$3 mode=$4 base n=${CONNECTS:-1}
	shift 4
	# through a 4 s outage
	hu_reject "$port"
	hu_after 4 hu_unreject
	hu_run_shim "$name" "$POLICY" "$@"
	eval "$check" || hu_fail "$name with hostup did not complete through the outage"
	hu_ok "$name with hostup rides out a 4 s outage"
	hu_assert_ge "$HU_MS" 3500 "$name: the outage really lasted"
	local c
	c=$(hu_counts "$name" --op connect)
	hu_assert_contains "$c" "recovered=1 gave_up=0" "$name: one recovered record"
	[[ $c == retry=0* ]] && hu_fail "$name: no retry record"
	sleep 0.2
	# never recovers: the same message and status as without hostup
	hu_reject "$port"
	hu_run "$@"
	base=$(seen)
	hu_assert_ne 0 "$HU_RC" "$name without hostup fails"
	[[ $mode == blocking ]] && icmp_budget on
	hu_run_shim "${name}_dead" "$DEAD" "$@"
	icmp_budget off
	hu_assert_eq "$base" "$(seen)" "$name, never recovers: same message and exit status as without hostup"
	hu_assert_lt "$HU_MS" $((n * (DEAD_MS + ONE_TRY_MS))) "$name, never recovers: within the deadline plus one try"
	hu_assert_contains "$(hu_counts "${name}_dead" --op connect)" "recovered=0 gave_up=$n" "$name, never recovers: gave_up"
	hu_assert_eq EHOSTUNREACH "$(hu_field "${name}_dead" gave_up errno | sort -u)" "$name: gave_up names the kernel's errno"
	hu_unreject
	sleep 0.2
}

URL=http://$IP_S:$HTTP$HU_HTTP_PATH
client wget $HTTP '[[ $HU_OUT == "$HU_HTTP_BODY" ]]' blocking \
	wget -nv --tries=5 -O - "$URL"
PERL_LINE='my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => "tcp"%s)
	or die "connect: $@\n"; print scalar <$s>;'
# shellcheck disable=SC2059
client perl $LINE '[[ $HU_OUT == "$HU_HELLO" ]]' blocking \
	perl -MIO::Socket::INET -e "$(printf "$PERL_LINE" '')" "$IP_S" $LINE
# shellcheck disable=SC2059
client perl_timeout $LINE '[[ $HU_OUT == "$HU_HELLO" ]]' reconnect \
	perl -MIO::Socket::INET -e "$(printf "$PERL_LINE" ', Timeout => 20')" "$IP_S" $LINE
client openssl $TLS '[[ $HU_ERR == *"CONNECTION ESTABLISHED"* ]]' blocking \
	openssl s_client -connect "$IP_S:$TLS" -brief </dev/null
export HU_TMP
client git $GIT '[[ $HU_OUT == "$HU_HELLO" ]]' blocking \
	bash -c 'd=$(mktemp -d "$HU_TMP/clone.XXXXXX") && rmdir "$d" && git clone -q "git://$IP_S/repo.git" "$d" && cat "$d/hello.txt"'
CONNECTS=2 client redis-cli $REDIS '[[ $HU_OUT == PONG ]]' reconnect \
	redis-cli -h "$IP_S" -p $REDIS ping
client ruby $HTTP '[[ $HU_OUT == "$HU_HTTP_BODY" ]]' reconnect \
	ruby -rnet/http -e 'print Net::HTTP.get(URI(ARGV[0]))' "$URL"
hu_assert_contains "$HU_ERR" "Errno::EALREADY" "ruby, never recovers: Errno::EALREADY, as without hostup"

# --- the issue's repro commands
# python3 create_connection, ICMP rate-limited, deadline=3s: Errno 113, not 110
PYC="import socket
try:
    socket.create_connection(('$IP_S', $HTTP))
except OSError as e:
    print(e)"
hu_reject $HTTP
hu_run "$HU_PY" -c "$PYC"
hu_assert_eq "[Errno 113] No route to host" "$HU_OUT" "python3 without hostup"
icmp_budget on
for i in 1 2 3; do
	hu_run_shim "py_dead$i" "$DEAD" "$HU_PY" -c "$PYC"
	hu_assert_eq "[Errno 113] No route to host" "$HU_OUT" "python3 deadline=3s, ICMP rate-limited, run $i: Errno 113, not 110"
done
icmp_budget off
hu_unreject
# wget --tries=5 against an absent on-link host: wget does not retry
# EHOSTUNREACH, so one try, as without hostup (it was 5 tries in 35 s when
# a cut try came back as ETIMEDOUT, which wget retries)
ip -n "$NS_C" neigh flush all
hu_run wget -nv --tries=5 -O - "http://$IP_ABSENT:$HTTP/"
base=$(seen)
hu_assert_eq 4 "$HU_RC" "wget, absent host, without hostup: exit 4"
ip -n "$NS_C" neigh flush all
hu_run_shim wget_absent "* attempts=40 backoff=100ms..400ms deadline=5s" wget -nv --tries=5 -O - "http://$IP_ABSENT:$HTTP/"
hu_assert_eq "$base" "$(seen)" "wget --tries=5, absent host: same message and status as without hostup"
hu_assert_lt "$HU_MS" 7000 "wget --tries=5, absent host: one round of hostup's retries, not five"
hu_assert_eq EHOSTUNREACH "$(hu_field wget_absent gave_up errno)" "wget, absent host: gave_up names the kernel's errno"
hu_done
