#!/bin/bash
# SPDX-License-Identifier: MIT
# Safety under real failures: threads, fork during a retry, signal handlers
# during a wait, lazy initialisation before our constructor, and the
# recursion guard when another preloaded library calls back into us.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_threads hu_fork hu_signal hu_connect libhu_early.so libhu_stack.so
P=8080
LIVE=8081

hu_net_setup
hu_serve_tcp $P
hu_serve_tcp $LIVE
hu_dns_start --record db="$IP_S"

# --- 64 threads resolve and connect at once to a host down for 3 s
hu_reject $P
hu_after 3 hu_unreject
hu_run_shim threads "* attempts=60 backoff=100ms..500ms" "$HU_TOOLS/hu_threads" 64 db $P "$HU_HELLO"
hu_assert_eq "ok 64/64" "$HU_OUT" "64 threads all connect after the outage"
counts=$(hu_counts threads)
hu_assert_contains "$counts" "recovered=64 gave_up=0" "one recovered record per thread"

# --- the same with ICMP sent from user space (it reaches the socket after
# connect() returned, as over a real network): every success must be a
# real connection (a TCP_INFO check guards against "connected" sockets in
# TCP_CLOSE, which the recovery benchmark once caught)
hu_hostdown $P
hu_after 2 hu_unhostdown
hu_run_shim threads_down "* attempts=60 backoff=50ms..300ms" "$HU_TOOLS/hu_threads" 100 db $P "$HU_HELLO"
hu_assert_eq "ok 100/100" "$HU_OUT" "100 threads against EHOSTDOWN: every connection real"

# --- fork while another thread is inside a retry
hu_reject $P
hu_run_shim fork "* attempts=4 backoff=300ms..300ms jitter=none" "$HU_TOOLS/hu_fork" db $P db $LIVE
hu_assert_contains "$HU_OUT" "child: $HU_HELLO" "the child resolves and connects"
hu_assert_contains "$HU_OUT" "child exit: 0" "the child exits normally (no deadlock)"
pids=$(hu_field fork gave_up pid | sort -u | wc -l)
hu_assert_eq 2 "$pids" "parent and child both log their own gave_up"

# --- a signal handler runs promptly during a backoff wait
hu_run_shim sig_restart "* attempts=3 backoff=3s..3s jitter=none" "$HU_TOOLS/hu_signal" restart "$IP_S" $P
h=$(sed -E 's/.*handler_ms=([0-9-]+).*/\1/' <<<"$HU_OUT")
hu_assert_ge "$h" 900 "SA_RESTART: handler ran at the alarm"
hu_assert_lt "$h" 1500 "SA_RESTART: handler ran promptly during the wait"
hu_assert_contains "$HU_OUT" "connect=EHOSTUNREACH" "SA_RESTART: the retry went on to the end"
hu_run_shim sig_norestart "* attempts=3 backoff=3s..3s jitter=none" "$HU_TOOLS/hu_signal" norestart "$IP_S" $P
at=$(sed -E 's/.*at_ms=([0-9]+).*/\1/' <<<"$HU_OUT")
hu_assert_contains "$HU_OUT" "connect=EINTR" "no SA_RESTART: connect returns EINTR, as a plain connect would"
hu_assert_lt "$at" 1500 "no SA_RESTART: promptly"

# --- lazy initialisation: a library whose constructor runs before ours
hu_run env LD_PRELOAD="$HU_PRELOAD $HU_TOOLS/libhu_early.so" HU_EARLY_ADDR="$IP_S" HU_EARLY_PORT=$P \
	HOSTUP_POLICY="* attempts=3 backoff=10ms..10ms" HOSTUP_LOG="$HU_TMP/early.log" true
hu_assert_eq "early connect: EHOSTUNREACH" "$HU_ERR" "connect from an earlier constructor works"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts early)" "and is retried under the policy"

# --- recursion guard: libhu_stack's connect calls getaddrinfo, which lands
# back in hostup; inside hostup's own retry that call must pass straight
# through, so only the program-level call is retried and logged.
hu_dns_stop
hu_dns_start --servfail-for 600
hu_run env LD_PRELOAD="$HU_PRELOAD $HU_TOOLS/libhu_stack.so" HU_STACK_NAME=stack.test \
	HOSTUP_POLICY="* attempts=3 backoff=10ms..10ms" HOSTUP_LOG="$HU_TMP/stack.log" "$HU_TOOLS/hu_connect" "$IP_S" $P
hu_assert_eq "error EHOSTUNREACH" "$HU_OUT" "stacked: connect result unchanged"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts stack --op getaddrinfo)" \
	"stacked: the nested lookup is retried once, not inside each connect retry"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts stack --op connect)" "stacked: connect retried"
hu_unreject
hu_done
