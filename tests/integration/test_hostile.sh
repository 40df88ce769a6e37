#!/bin/bash
# SPDX-License-Identifier: MIT
# Programs that are hard on a preloaded library (tests/tools/hu_hostile.c):
# fd numbers reused by other threads during a retry, fork/vfork/posix_spawn/
# system() during a retry, signal handlers calling read() and connect(), the
# program taking over the log descriptor, fds above 65,536, and the library
# loaded twice.  (A SIGALRM timeout around a retry: test_safety_netns.sh.)
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_root
hu_need_lib
hu_need_tools hu_hostile
H=$HU_TOOLS/hu_hostile
P=8080
LIVE=8081
DEAD=8082

hu_net_setup
hu_serve_tcp $P
hu_serve_tcp $LIVE
hu_serve_tcp $DEAD

# --- 64 threads connect to a host down for 3 s while 4 threads open, dup2
# and close fds, so the connecting sockets' numbers are reused at once
hu_reject $P
hu_after 3 hu_unreject
hu_run_shim churn "* attempts=60 backoff=100ms..500ms" "$H" churn 64 "$IP_S" $P "$HU_HELLO"
hu_assert_eq "ok 64/64 churn=yes" "$HU_OUT" "64 connecting threads amid fd churn all get the server's line"
hu_assert_contains "$(hu_counts churn)" "recovered=64 gave_up=0" "one recovered record per connecting thread"
hu_reject $DEAD   # stays down from here on

# --- fork, vfork+exec, posix_spawn and system() while a thread is retrying
hu_run_shim spawn "* attempts=5 backoff=300ms..300ms jitter=none" "$H" spawn "$IP_S" $DEAD $LIVE
hu_assert_eq "fork=0 vfork=5 posix_spawn=6 system=7 thread=EHOSTUNREACH" "$HU_OUT" \
	"fork child connects; vfork, posix_spawn and system() children run; the retry ends as it should"
hu_assert_contains "$(hu_counts spawn)" "recovered=0 gave_up=1" "the retrying thread gives up once"

# --- a SIGALRM handler calls read() and connect() during the backoff wait
hu_run_shim sig_r "* attempts=3 backoff=3s..3s jitter=none" "$H" sighandler restart "$IP_S" $DEAD $LIVE
hu_assert_eq "handler_read=1 handler_connect=0 connect=EHOSTUNREACH" "$HU_OUT" \
	"SA_RESTART: the handler's read and connect work, the retry goes on"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts sig_r)" "SA_RESTART: one retry sequence"
hu_run_shim sig_n "* attempts=3 backoff=3s..3s jitter=none" "$H" sighandler norestart "$IP_S" $DEAD $LIVE
hu_assert_eq "handler_read=1 handler_connect=0 connect=EINTR" "$HU_OUT" \
	"no SA_RESTART: the handler's calls work, connect returns EINTR as a plain one would"
hu_assert_lt "$HU_MS" 2500 "no SA_RESTART: promptly"

# --- the program takes over the log descriptor's number: dup2 over it, or
# close_range at start-up and open its own file; records never land there
for how in logfd closeall; do
	rm -f "$HU_TMP/$how.data"
	hu_run_shim "$how" "* attempts=2 backoff=10ms..10ms" "$H" "$how" "$HU_TMP/$how.data" "$IP_S" $DEAD
	[[ $HU_RC == 0 && $HU_OUT == "log_fd="*" second=EHOSTUNREACH wrote=13" ]] || hu_fail "$how: $HU_OUT"
	hu_ok "$how: the program's file took the log's fd number ($HU_OUT)"
	hu_assert_eq "program data" "$(cat "$HU_TMP/$how.data")" "$how: the program's file holds only its own data"
	hu_assert_contains "$(hu_counts "$how")" "gave_up=2" "$how: both give-ups recorded in the log file"
done

# --- a connecting socket moved to fd 70000, completed through poll
hu_reject $P
hu_after 2 hu_unreject
# (a container without CAP_SYS_RESOURCE may cap the hard limit lower: then
# the highest fd it allows, and the check says so)
big=70000
hard=$(ulimit -Hn)
if [[ $hard != unlimited && $hard -le 70000 ]] && ! (ulimit -Hn 100000) 2>/dev/null; then
	big=$((hard - 1))
	echo "note: hard RLIMIT_NOFILE is $hard and cannot be raised here: fd $big instead of 70000"
	((big > 65536)) || hu_skip "a connecting fd above 65,536: hard RLIMIT_NOFILE is $hard here (fd $big checked instead)"
fi
hu_run_shim bigfd "* attempts=30 backoff=200ms..500ms" "$H" bigfd "$IP_S" $P "$HU_HELLO"
hu_assert_eq "connect=EINPROGRESS fd=$big poll=1 so_error=0 read='$HU_HELLO'" "$HU_OUT" \
	"nonblocking connect at fd $big retried through poll"
hu_assert_contains "$(hu_counts bigfd)" "recovered=1 gave_up=0" "fd $big: recovered"

# --- the library loaded twice: no double retries, no crash
hu_reject $DEAD   # hu_unreject above flushed every rule
pol="* attempts=3 backoff=10ms..10ms"
hu_run_shim twice_dlopen "$pol" "$H" dlopen "$HU_LIB" "$IP_S" $DEAD
hu_assert_eq "dlopen=ok connect=EHOSTUNREACH" "$HU_OUT" "preloaded and dlopen'ed: runs"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts twice_dlopen)" "preloaded and dlopen'ed: retried once over"
: >"$HU_TMP/twice_env.log"
hu_run env LD_PRELOAD="$HU_PRELOAD $HU_LIB" HOSTUP_POLICY="$pol" HOSTUP_LOG="$HU_TMP/twice_env.log" \
	"$H" dlopen "$HU_LIB" "$IP_S" $DEAD
hu_assert_eq "dlopen=ok connect=EHOSTUNREACH" "$HU_OUT" "LD_PRELOAD names it twice: runs"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(hu_counts twice_env)" "LD_PRELOAD names it twice: retried once over"
: >"$HU_TMP/dlopen_only.log"
hu_run env HOSTUP_POLICY="$pol" HOSTUP_LOG="$HU_TMP/dlopen_only.log" "$H" dlopen "$HU_LIB" "$IP_S" $DEAD
hu_assert_eq "dlopen=ok connect=EHOSTUNREACH" "$HU_OUT" "dlopen'ed only (not preloaded): runs, libc's connect result"
hu_unreject
hu_done
