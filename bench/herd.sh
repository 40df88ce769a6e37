#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Recovery when something fails: a service is down for D seconds while N
# clients try to connect; how fast and how gently does each retry strategy
# bring them back?  Run by `make bench` (bench/run.sh); as root.
#
# Network: the test harness's two namespaces (tests/integration/lib.sh):
# clients in $NS_C (198.18.0.1), the service in $NS_S (198.18.0.2), no
# default route.  Every strategy gets its own port, and all of them run at
# once, against one outage: the ports answer ICMP host-unreachable from the
# clients' start until D seconds later (hu_reject / hu_unreject on a port
# range), so every strategy sees exactly the same outage, and the whole
# matrix fits the time budget.  `bench/herd serve` accepts on every port and
# counts each SYN that reaches the server (before netfilter, so refused
# SYNs count) with its kernel timestamp and port.  While the service is
# down, nftables drops the SYNs and `herd serve` answers each one with ICMP
# host-unreachable itself (see bench/herd.c for why not nftables' reject).
#
# Cells: D in $HERD_D (2 5 20 s) x N in $HERD_N (1 50 200 clients), each
# run $HERD_REPS times (the matrix in turn, so slow drift spreads).  The
# service goes down at t=0 and comes back at t=D.  Every client starts at
# t=0.5 s, all at the same instant (a crash makes all of a service's clients
# reconnect together, a moment after it), and has 60 s.  The half second
# keeps fixed schedules (a try every second) from being aligned with the
# instant the service comes back, which would flatter them.  Raw data goes to $HERD_RAW; the tables
# and plots come from bench/herd_report.py.
set -u
cd "$(dirname "$0")/.."
. tests/integration/lib.sh
hu_need_root
hu_need_lib
HERD=$HU_BUILD/bench/herd
[[ -x $HERD ]] || hu_fail "missing $HERD (make $HERD)"
HERD_D=${HERD_D:-2 5 20}
HERD_N=${HERD_N:-1 50 200}
HERD_RAW=${HERD_RAW:-$HU_BUILD/bench/herd-raw}
HERD_REPS=${HERD_REPS:-3}       # runs of the whole matrix, pooled by the report
DEADLINE_S=60
PORT0=21000

# id | client kind | preload hostup? | HOSTUP_POLICY ("" = the built-in defaults)
# The built-in defaults are attempts=40 backoff=200ms..2s multiplier=2
# jitter=equal deadline=30s (chosen from this experiment); hu-old-defaults
# are the ones they replaced (attempts=8 backoff=200ms..8s jitter=full).
# "-a1000" (attempts=1000) lifts the attempts bound so that only the 30 s
# deadline ends the retries.  Every other policy is spelled out in full, so
# it does not move when the defaults do.
STRATS=(
	"no-retry|once|no|"
	"app-3-tries|app3|no|"
	"poll-1s|poll1s|no|"
	"hu-old-defaults|once|yes|* attempts=8 backoff=200ms..8s jitter=full"
	"hu-equal-8s|once|yes|* attempts=8 backoff=200ms..8s jitter=equal"
	"hu-decorr-8s|once|yes|* attempts=8 backoff=200ms..8s jitter=decorrelated"
	"hu-none-8s|once|yes|* attempts=8 backoff=200ms..8s jitter=none"
	"hu-full-8s-a1000|once|yes|* attempts=1000 backoff=200ms..8s jitter=full"
	"hu-equal-8s-a1000|once|yes|* attempts=1000 backoff=200ms..8s jitter=equal"
	"hu-decorr-8s-a1000|once|yes|* attempts=1000 backoff=200ms..8s jitter=decorrelated"
	"hu-none-8s-a1000|once|yes|* attempts=1000 backoff=200ms..8s jitter=none"
	"hu-full-1s-a1000|once|yes|* attempts=1000 backoff=100ms..1s jitter=full"
	"hu-full-2s-a1000|once|yes|* attempts=1000 backoff=200ms..2s jitter=full"
	"hu-equal-2s-a1000|once|yes|* attempts=1000 backoff=200ms..2s jitter=equal"
	"hu-decorr-2s-a1000|once|yes|* attempts=1000 backoff=200ms..2s jitter=decorrelated"
	"hu-none-2s-a1000|once|yes|* attempts=1000 backoff=200ms..2s jitter=none"
	"hu-full-4s-a1000|once|yes|* attempts=1000 backoff=200ms..4s jitter=full"
	"hu-equal-1s-a1000|once|yes|* attempts=1000 backoff=100ms..1s jitter=equal"
	"hu-equal-4s-a1000|once|yes|* attempts=1000 backoff=200ms..4s jitter=equal"
	"hu-defaults|once|yes|"
)
# HERD_SET=shared: herd control across processes (issue 12).  N separate
# processes per strategy (kind p-*), the built-in defaults with and without
# the shared state file, against the article's loop and wait-for-it, also
# as N processes.  hostup column: yes = preloaded with HOSTUP_SHARED=off
# (every process, or in the thread strategies above every thread, retries
# on its own, as before the shared state existed); shared = preloaded with a
# shared file of the strategy's own.
if [[ ${HERD_SET:-} == shared ]]; then
	STRATS=(
		"p-app-3-tries|p-app3|no|"
		"p-poll-1s|p-poll1s|no|"
		"p-hu-defaults-off|p-once|yes|"
		"p-hu-defaults-shared|p-once|shared|"
	)
fi
# HERD_SET=real: real event-loop clients (issue 17), N separate processes
# of HERD_REAL (py: socket.create_connection(timeout=40); node: http.get;
# curl --connect-timeout 40; see bench/herd_clients.py) under the built-in
# defaults, with the shared file and with HOSTUP_SHARED=off.  They start
# HERD_LEAD_MS before the clients' start (node needs ~50 ms of CPU each).
if [[ ${HERD_SET:-} == real ]]; then
	k=${HERD_REAL:-py}
	# HERD_POLICY: a policy instead of the built-in defaults (the issue's
	# own table used "* attempts=60 backoff=200ms..2s deadline=40s")
	STRATS=(
		"$k-off|r-$k|yes|${HERD_POLICY:-}"
		"$k-shared|r-$k|shared|${HERD_POLICY:-}"
	)
	# HERD_ONLY=off|shared: one of the two alone (2 cores: 400 processes
	# waking at once wait for the CPU, which the times after up then show)
	[[ -n ${HERD_ONLY:-} ]] && STRATS=("$k-$HERD_ONLY|r-$k|${HERD_ONLY/off/yes}|${HERD_POLICY:-}")
fi
LEAD_NS=$(( ${HERD_LEAD_MS:-1500} * 1000000 ))
NS=${#STRATS[@]}

now_ns() { echo "${EPOCHREALTIME/[.,]/}000"; }
sleep_until_ns() { # NS
	local left_us=$((($1 - $(now_ns)) / 1000))
	((left_us > 0)) && sleep "$((left_us / 1000000)).$(printf %06d $((left_us % 1000000)))"
	return 0
}

rm -rf "$HERD_RAW" && mkdir -p "$HERD_RAW" || hu_fail "mkdir $HERD_RAW"
hu_net_setup
# up to 200 clients per port connect at the same instant: room in the
# server's listen queues
hu_s sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192 || hu_fail "sysctl"
{
	echo "# id|kind|hostup|policy|port"
	for ((i = 0; i < NS; i++)); do echo "${STRATS[i]}|$((PORT0 + i))"; done
} >"$HERD_RAW/strategies.txt"

run_cell() { # D N REP
	local D=$1 N=$2 dir=$HERD_RAW/D$1_N$2_r$3 spid i id kind pre pol start up0 up1 t0=$SECONDS
	local -a pids=()
	mkdir -p "$dir"
	# ip netns exec execs the program, so $! is the server itself
	# real-time priority: the "network" (its ICMP answers) must not wait for
	# the CPU behind hundreds of clients, as a real network would not
	ip netns exec "$NS_S" chrt -f 50 "$HERD" serve "$IF_S" $PORT0 "$NS" "$dir/syns.txt" 2>"$dir/serve.err" &
	spid=$!
	hu__track $spid
	hu__wait_line "$dir/serve.err" ready "herd serve"
	hu_s nft add rule inet hutest reject_rules tcp dport "$PORT0-$((PORT0 + NS - 1))" \
		'tcp flags & (syn|ack) == syn' drop || hu_fail "nft drop"
	# the clients start together at $start; the outage counts from 0.5 s
	# before (the SYNs are refused from now on, before any client exists)
	start=$(($(now_ns) + LEAD_NS))
	for ((i = 0; i < NS; i++)); do
		IFS='|' read -r id kind pre pol <<<"${STRATS[i]}"
		if [[ $pre == yes || $pre == shared ]]; then
			local shared=off
			[[ $pre == shared ]] && shared=$dir/$i.shm
			local -a client=("$HERD" client "$kind")
			[[ $kind == r-* ]] && client=("$HU_PY" bench/herd_clients.py "${kind#r-}")
			ip netns exec "$NS_C" env LD_PRELOAD="$HU_LIB" HOSTUP_POLICY="$pol" HOSTUP_LOG="$dir/$i.records" \
				HOSTUP_SHARED="$shared" \
				"${client[@]}" "$N" "$IP_S" $((PORT0 + i)) "$start" $DEADLINE_S \
				>"$dir/$i.clients" 2>"$dir/$i.err" &
		else
			ip netns exec "$NS_C" "$HERD" client "$kind" "$N" "$IP_S" $((PORT0 + i)) "$start" $DEADLINE_S \
				>"$dir/$i.clients" 2>"$dir/$i.err" &
		fi
		pids+=($!)
		hu__track $!
	done
	sleep_until_ns $((start - 500000000 + D * 1000000000))
	up0=$(now_ns)
	hu_unreject     # the kernel answers SYNs again ...
	up1=$(now_ns)
	kill -USR1 $spid    # ... and the ICMP answers stop
	wait "${pids[@]}"
	sleep 0.2   # the last SYN-ACKs' SYNs are in; let the sniffer drain
	kill -TERM $spid
	wait $spid
	echo "$D $N $start $up0 $up1" >"$dir/meta"
	printf 'bench: recovery run %s/%s D=%-2s N=%-3s done in %ss (%s SYNs)\n' "$3" "$HERD_REPS" "$D" "$N" \
		$((SECONDS - t0)) \
		"$(awk '$5 != 2 && !/^#/' "$dir/syns.txt" | wc -l)" >&2
}

for ((rep = 1; rep <= HERD_REPS; rep++)); do
	for D in $HERD_D; do
		for N in $HERD_N; do
			run_cell "$D" "$N" $rep
		done
	done
done
echo "bench: recovery raw data in $HERD_RAW" >&2
