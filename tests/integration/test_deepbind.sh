#!/bin/bash
# SPDX-License-Identifier: MIT
# Libraries opened with RTLD_DEEPBIND (issue 19, silent gap 6).  Such a
# library binds connect, poll... to libc before the global scope, so
# before the fix PHP's curl extension failed at 0 ms with no record.  The
# library's dlopen drops the flag (shim/wrap/dlopen.c), as a tail jump so
# that the loader still sees the real caller:
#   - dlopen through DT_RUNPATH, from the program and from a library, with
#     and without RTLD_DEEPBIND, works under the preload as without it; a
#     C wrapper would make libhostup the caller and these fail;
#   - a failing dlopen looks the same (NULL, dlerror, errno);
#   - a library opened with RTLD_DEEPBIND is covered: its connect() is
#     retried, with records; HOSTUP_DEEPBIND=keep keeps the flag (no record);
#   - PHP: curl_exec recovers when the server comes up 1 s late, and a
#     refused one is retried by the policy with records; `php -m` and
#     `php -i` list the same with and without the preload.
# No root needed; PHP's part is skipped without php-cli and php-curl.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
hu_need_tools hu_dlopen
# a sanitizer runtime preloaded first has a dlopen of its own, a C function:
# the loader sees it as the caller (and ASan refuses RTLD_DEEPBIND)
[[ -n ${HU_SANITIZE:-} ]] && { echo "skipped: the sanitizer runtime wraps dlopen itself"; exit 77; }
unset HOSTUP_POLICY HOSTUP_CONFIG HOSTUP_LOG HOSTUP_DEEPBIND
D=$HU_TOOLS/hu_dlopen
REC=$HU_ROOT/tests/integration/records.py
POL="* attempts=3 backoff=10ms..10ms retry_on=+ECONNREFUSED"
pre() { env LD_PRELOAD="$HU_PRELOAD" "$@"; }
counts() { "$HU_PY" "$REC" "$1" || hu_fail "records in $1 are not valid"; }

# --- the loader's view of the call is the caller's
for mode in exe "exe deepbind" lib "lib deepbind" missing; do
	# shellcheck disable=SC2086
	bare=$("$D" $mode 2>&1)
	# shellcheck disable=SC2086
	with=$(pre "$D" $mode 2>&1)
	hu_assert_eq "$bare" "$with" "hu_dlopen $mode: the same with the library as without"
done
hu_assert_eq "exe: leaf" "$(pre "$D" exe)" "dlopen by name through the program's DT_RUNPATH"
hu_assert_eq "lib: leaf" "$(pre "$D" lib)" "dlopen by name through a library's DT_RUNPATH"
hu_assert_contains "$(pre "$D" missing)" "missing: NULL; dlerror: libhu_no_such_library.so: cannot open shared object file" \
	"a failing dlopen: NULL and the loader's own message"

# --- a library opened with RTLD_DEEPBIND is covered
out=$(pre env HOSTUP_POLICY="$POL" "$D" connect 127.0.0.1 1 2>"$HU_TMP/deep.err")
hu_assert_eq "error 111" "$out" "RTLD_DEEPBIND library: libc's result (ECONNREFUSED)"
hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(counts "$HU_TMP/deep.err")" \
	"RTLD_DEEPBIND library: its connect() is retried and reported"
out=$(pre env HOSTUP_POLICY="$POL" HOSTUP_DEEPBIND=keep "$D" connect 127.0.0.1 1 2>"$HU_TMP/keep.err")
hu_assert_eq "error 111" "$out" "HOSTUP_DEEPBIND=keep: libc's result"
hu_assert_eq "" "$(cat "$HU_TMP/keep.err")" "HOSTUP_DEEPBIND=keep: the flag is kept, the library's calls bypass hostup"

# --- PHP, which opens every extension with RTLD_DEEPBIND
if hu_have_cmd "PHP (php-cli)" php && { php -m | grep -qx curl || { hu_skip "PHP: needs php-curl"; false; }; }; then
	strip_env() { grep -v -e LD_PRELOAD -e PHP_SELF -e REQUEST_TIME -e 'argv' -e SCRIPT_; }
	hu_assert_eq "" "$(diff <(php -m) <(pre php -m))" "php -m: the same extensions load with the library"
	hu_assert_eq "" "$(diff <(env php -i | strip_env) <(pre php -i | strip_env))" "php -i: the same with the library"
	cat >"$HU_TMP/get.php" <<-'EOF'
		<?php
		$ch = curl_init($argv[1]);
		curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
		$r = curl_exec($ch);
		echo $r === false ? "error " . curl_errno($ch) . "\n" : $r;
	EOF
	out=$(pre env HOSTUP_POLICY="$POL" php "$HU_TMP/get.php" http://127.0.0.1:1/ 2>"$HU_TMP/php1.err")
	hu_assert_eq "error 7" "$out" "php curl_exec, refused: libcurl's result (CURLE_COULDNT_CONNECT)"
	hu_assert_eq "retry=2 recovered=0 gave_up=1 config_error=0" "$(counts "$HU_TMP/php1.err")" \
		"php curl_exec, refused: retried and reported"
	# a server that comes up 1 s after the request
	port=$((20000 + RANDOM % 20000))
	mkdir -p "$HU_TMP/www"
	echo "hello from php-curl" >"$HU_TMP/www/hello.txt"
	hu_after 1 "$HU_PY" -m http.server "$port" --bind 127.0.0.1 --directory "$HU_TMP/www"
	out=$(pre env HOSTUP_POLICY="127.0.0.1 attempts=40 backoff=100ms..200ms retry_on=+ECONNREFUSED" \
		php "$HU_TMP/get.php" "http://127.0.0.1:$port/hello.txt" 2>"$HU_TMP/php2.err")
	hu_assert_eq "hello from php-curl" "$out" "php curl_exec: recovers when the server comes up 1 s late"
	hu_assert_contains "$(counts "$HU_TMP/php2.err")" "recovered=1" "php curl_exec: one recovered record"
fi
hu_done
