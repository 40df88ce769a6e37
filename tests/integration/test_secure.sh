#!/bin/bash
# SPDX-License-Identifier: MIT
# AT_SECURE (setuid or file capabilities): the library still loads, but
# HOSTUP_LOG file paths and HOSTUP_CONFIG are ignored, so an environment
# cannot make a privileged program create, append to or read a file of the
# caller's choosing.  Records go to stderr instead.
#
# The loader preloads into a secure program only a bare library name found
# in a trusted directory with the setuid bit set: the test installs a copy
# as /usr/lib/<multiarch>/hostup-test-PID.so (mode 4755), runs a copy of
# hu_connect carrying cap_net_raw+ep as `nobody`, and removes both on exit.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_root
hu_need_lib
hu_need_cmd setcap setpriv getcap
hu_need_tools hu_connect
[[ -n ${HU_SANITIZE:-} ]] && { echo "skipped: the sanitizer runtime cannot be preloaded into a secure program"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "skipped: needs a nobody user"; exit 77; }
multi=$(gcc -print-multiarch 2>/dev/null || true)
libdir=/usr/lib/${multi:-x86_64-linux-gnu}
[[ -d $libdir ]] || { echo "skipped: no $libdir"; exit 77; }

NAME=hostup-test-$$.so
# the secure program uses the default shared file (HOSTUP_SHARED ignored):
# removed afterwards if this test made it
netns=$(stat -Lc %i /proc/self/ns/net)
default_shm=/dev/shm/hostup-$(id -u nobody)-net$netns
[[ -e $default_shm ]] && default_shm=
hu_at_exit 'rm -f "$libdir/$NAME"; [[ -n $default_shm ]] && rm -f "$default_shm"'
chmod 755 "$HU_TMP"
install -m 4755 "$HU_LIB" "$libdir/$NAME" || hu_fail "install $libdir/$NAME"
install -m 755 "$HU_TOOLS/hu_connect" "$HU_TMP/capprog"
install -m 755 "$HU_TOOLS/hu_connect" "$HU_TMP/plainprog"
setcap cap_net_raw+ep "$HU_TMP/capprog" || { echo "skipped: setcap failed here (file system without xattrs?)"; exit 77; }
mkdir -m 1777 "$HU_TMP/spool"
printf '{"rules": [ broken\n' >"$HU_TMP/bad.json"
chmod 644 "$HU_TMP/bad.json"

# a closed port on loopback; ECONNREFUSED made retryable so there are records
pol="* attempts=2 backoff=10ms..10ms retry_on=+ECONNREFUSED"
as_nobody() { # LOGFILE PROGRAM
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env -i PATH=/usr/bin:/bin LD_PRELOAD="$NAME" HOSTUP_POLICY="$pol" \
		HOSTUP_LOG="$1" HOSTUP_CONFIG="$HU_TMP/bad.json" HOSTUP_SHARED="${1%.log}.shm" "$2" 127.0.0.1 1
}

# --- control: the same program without capabilities honours both
out=$(as_nobody "$HU_TMP/spool/plain.log" "$HU_TMP/plainprog" 2>"$HU_TMP/plain.err")
hu_assert_eq "error ECONNREFUSED" "$out" "plain program: libc's result"
[[ -f $HU_TMP/spool/plain.log ]] || hu_fail "plain program: HOSTUP_LOG file not created"
hu_assert_contains "$(cat "$HU_TMP/spool/plain.log")" '"event":"gave_up"' "plain program: records in the HOSTUP_LOG file"
hu_assert_contains "$(cat "$HU_TMP/spool/plain.log")" '"event":"config_error"' "plain program: HOSTUP_CONFIG read"
[[ -f $HU_TMP/spool/plain.shm ]] || hu_fail "plain program: HOSTUP_SHARED file not created"
hu_ok "plain program: HOSTUP_SHARED file created"

# --- secure: file capabilities make AT_SECURE
[[ $(getcap "$HU_TMP/capprog") == *cap_net_raw* ]] || hu_fail "capability not set"
out=$(as_nobody "$HU_TMP/spool/secure.log" "$HU_TMP/capprog" 2>"$HU_TMP/secure.err")
hu_assert_eq "error ECONNREFUSED" "$out" "secure program: libc's result"
err=$(cat "$HU_TMP/secure.err")
# the library was loaded and retried: its records went to stderr
hu_assert_contains "$err" '"event":"gave_up"' "secure program: library loaded, records on stderr"
hu_assert_contains "$err" '"attempts":2' "secure program: HOSTUP_POLICY still applies"
[[ -e $HU_TMP/spool/secure.log ]] && hu_fail "secure program created the HOSTUP_LOG file"
hu_ok "secure program: HOSTUP_LOG path ignored (no file created)"
[[ $err == *config_error* ]] && hu_fail "secure program read HOSTUP_CONFIG: $err"
hu_ok "secure program: HOSTUP_CONFIG ignored (not read)"
[[ -e $HU_TMP/spool/secure.shm ]] && hu_fail "secure program created the HOSTUP_SHARED file"
hu_ok "secure program: HOSTUP_SHARED path ignored (no file created)"
hu_done
