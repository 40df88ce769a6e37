#!/bin/bash
# SPDX-License-Identifier: MIT
# The hostup command (run, policy, check-config), the shipped configs, and
# the fixed install layout.  No root needed.
set -u
. "$(dirname "$0")/lib.sh"
hu_need_lib
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H"
unset HOSTUP_POLICY HOSTUP_CONFIG

# --- install layout (DESTDIR packaging)
make -s -C "$HU_ROOT" install PREFIX=/usr/local DESTDIR="$HU_TMP/root" >/dev/null || hu_fail "make install"
for f in lib/hostup/libhostup.so bin/hostup include/hostup/hostup.h include/hostup/policy.h \
	share/hostup/default.json share/hostup/compose-late-db.json; do
	[[ -f $HU_TMP/root/usr/local/$f ]] || hu_fail "install: missing \$(PREFIX)/$f"
done
hu_ok "install layout: lib/hostup, bin, include/hostup, share/hostup"

# --- hostup run finds the library relative to itself (installed and built)
I=$HU_TMP/root/usr/local/bin/hostup
out=$("$I" run -- sh -c 'echo "$LD_PRELOAD"')
hu_assert_eq "$HU_TMP/root/usr/local/lib/hostup/libhostup.so" "$out" "installed hostup run preloads ../lib/hostup"
out=$(LD_PRELOAD=/x.so "$H" run --policy "db attempts=2" -- sh -c 'echo "$LD_PRELOAD|$HOSTUP_POLICY"' 2>/dev/null)
hu_assert_eq "$(realpath "$HU_LIB") /x.so|db attempts=2" "$out" "built hostup run: library first, existing preload kept, --policy"
"$H" run -- /nonexistent/program 2>/dev/null
hu_assert_eq 127 "$?" "run: missing command exits 127"
"$H" run 2>/dev/null
hu_assert_eq 64 "$?" "run: no command is a usage error (64)"
"$H" run -- ls /proc/self/fd 2>"$HU_TMP/err" >/dev/null
[[ ! -s $HU_TMP/err ]] || hu_fail "run of a healthy program printed: $(cat "$HU_TMP/err")"
hu_ok "run: a healthy program runs silently"

# --- hostup policy: which rule matches, effective values
P="db:5432 attempts=20 deadline=90s; *.svc.cluster.local attempts=3; 10.0.0.0/8 off; * attempts=4"
out=$("$H" policy --policy "$P" db:5432)
hu_assert_contains "$out" "db:5432: HOSTUP_POLICY rule 1: db:5432 attempts=20 deadline=90s" "policy: host:port"
hu_assert_contains "$out" "attempts=20 timeout=none deadline=90s backoff=200ms..2s multiplier=2 jitter=equal so_error=einprogress retry_on=ENETUNREACH|EHOSTDOWN|EHOSTUNREACH|EAI_AGAIN" \
	"policy: effective values"
hu_assert_contains "$("$H" policy --policy "$P" db:6000)" "rule 4" "policy: other port falls through"
hu_assert_contains "$("$H" policy --policy "$P" api.ns.svc.cluster.local:80)" "rule 2" "policy: glob"
hu_assert_contains "$("$H" policy --policy "$P" 10.1.2.3)" "rule 3: 10.0.0.0/8 off" "policy: CIDR"
out=$("$H" policy --policy "" --config "$HU_ROOT/config/compose-late-db.json" db:5432)
hu_assert_contains "$out" "db:5432: HOSTUP_CONFIG rule 1: db:5432 attempts=40" "policy: a rule from the config file"
hu_assert_contains "$out" "retry_on=ENETUNREACH|ECONNREFUSED|EHOSTDOWN|EHOSTUNREACH|EAI_NONAME|EAI_AGAIN" "policy: retry_on=+ adds to the defaults"
hu_assert_contains "$("$H" policy --policy "" anything)" "no rule matches; the defaults apply" "policy: defaults"

# --- hostup check-config: exact messages and exit codes
out=$("$H" check-config --policy "db:5432 attempts=20; * attempts=abc" 2>&1)
hu_assert_eq 1 "$?" "check-config: bad policy exits 1"
hu_assert_eq "HOSTUP_POLICY:1:24: rule 2: 'attempts=abc': attempts must be a whole number from 1 to 1000 (in \"* attempts=abc\")" \
	"$out" "check-config: exact message with rule and column"
out=$("$H" check-config --policy "db:5432 attempts=20")
hu_assert_eq "ok: 1 rule" "$out" "check-config: good policy"
printf '{"rules": [\n  {"match": "db" "attempts": 3}\n]}\n' >"$HU_TMP/bad.json"
out=$("$H" check-config --policy "" --config "$HU_TMP/bad.json" 2>&1)
hu_assert_eq 1 "$?" "check-config: bad JSON exits 1"
hu_assert_contains "$out" "$HU_TMP/bad.json:2:" "check-config: JSON error with line"
HOSTUP_POLICY="x attempts=0" "$H" check-config >/dev/null 2>&1
hu_assert_eq 1 "$?" "check-config reads HOSTUP_POLICY from the environment"

# --- every shipped config and example parses
for f in "$HU_ROOT"/config/*.json; do
	"$H" check-config --policy "" --config "$f" >/dev/null || hu_fail "config $f does not validate"
done
hu_ok "config/*.json validate"
while IFS= read -r line; do
	[[ -z $line || $line == \#* ]] && continue
	"$H" check-config --policy "$line" >/dev/null || hu_fail "example does not validate: $line"
done <"$HU_ROOT/config/examples.policy"
hu_ok "config/examples.policy lines validate"
# --- --json forms for machines
out=$("$H" policy --json --policy "$P" db:5432)
hu_assert_eq "1 20 HOSTUP_POLICY" "$("$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["rule_number"], d["values"]["attempts"], d["source"])' <<<"$out")" \
	"policy --json: rule number, values, source"
out=$("$H" check-config --json --policy "x attempts=0")
hu_assert_eq 1 "$?" "check-config --json: exit 1 on errors"
hu_assert_eq "False 1 3" "$("$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); e=d["errors"][0]; print(d["ok"], e["rule"], e["column"])' <<<"$out")" \
	"check-config --json: the error's rule and column"

# --- hostup doctor without a network namespace: loopback and paths
"$H" doctor >/dev/null 2>&1
hu_assert_eq 64 "$?" "doctor without TARGET: usage error"
"$H" doctor --help | grep -q "usage: hostup doctor" || hu_fail "doctor --help"
hu_ok "doctor --help"
out=$("$H" doctor --json http://127.0.0.1:1/some/path)
hu_assert_eq 1 "$?" "doctor: a closed loopback port is unreachable (exit 1)"
hu_assert_eq "service 1" "$("$HU_PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["verdict"]["layer"], d["steps"][0]["detail"].split()[-1])' <<<"$out")" \
	"doctor: URL parsed (port 1), verdict at the service layer"
out=$("$H" doctor /tmp)
hu_assert_eq 0 "$?" "doctor /tmp: reachable"
hu_assert_contains "$out" "[8] stat" "doctor on a path: mount and stat lines"
out=$("$H" doctor --json /nonexistent/dir)
hu_assert_eq 1 "$?" "doctor on a missing path: exit 1"
hu_assert_contains "$out" "the path does not exist" "doctor on a missing path: cause"
out=$(NO_COLOR=1 "$H" doctor 127.0.0.1:1)
[[ $out == *$'\033'* ]] && hu_fail "escape codes when piped / NO_COLOR"
hu_ok "doctor: no colour when piped"
"$H" --help | grep -q "check-config" || hu_fail "--help"
hu_ok "--help lists the commands"

# --- the CLI a user meets (issue 19) -----------------------------------------
# every command has its own --help, on stdout with exit 0, and hostup help CMD
# says the same; the global usage names every option of every command
for c in run policy check-config doctor report status metrics; do
	out=$("$H" "$c" --help 2>"$HU_TMP/err"); rc=$?
	hu_assert_eq 0 "$rc" "$c --help exits 0"
	[[ -s $HU_TMP/err ]] && hu_fail "$c --help wrote to stderr: $(cat "$HU_TMP/err")"
	hu_assert_eq "usage: hostup $c" "$(head -n 1 <<<"$out" | cut -d' ' -f1-3)" "$c --help: its own usage"
	[[ $out == "$("$H" help "$c")" ]] || hu_fail "hostup help $c differs from $c --help"
	hu_ok "hostup help $c is $c --help"
	for opt in $(sed '/^$/q' <<<"$out" | grep -o -- '--[a-z][a-z-]*'); do
		[[ $("$H" --help) == *"$opt"* ]] || hu_fail "the global usage leaves out $c $opt"
	done
done
hu_ok "the global usage lists every command's options"
hu_assert_contains "$("$H" --help)" "doctor [--json] [--timeout DUR] TARGET" "global usage: doctor --timeout"
# a typo: one line, a guess, exit 64
out=$("$H" rnu 2>&1); rc=$?
hu_assert_eq 64 "$rc" "hostup rnu exits 64"
hu_assert_eq "hostup: unknown command 'rnu'; did you mean 'run'?" "$out" "hostup rnu: one line with a guess"
hu_assert_eq "hostup: unknown command 'chek-config'; did you mean 'check-config'?" "$("$H" chek-config 2>&1)" "a missing letter"
out=$("$H" frobnicate 2>&1)
hu_assert_eq 64 "$?" "an unknown command far from any: 64"
hu_assert_eq 1 "$(wc -l <<<"$out")" "an unknown command far from any: one line"
"$H" help nosuch >/dev/null 2>&1
hu_assert_eq 64 "$?" "help of no such command: 64"
# messages that say what is wrong
out=$("$H" doctor --timeout 2 127.0.0.1:1 2>&1)
hu_assert_eq 64 "$?" "doctor --timeout 2: usage error"
hu_assert_contains "$out" "missing unit" "doctor --timeout 2: says the unit is missing"
out=$("$H" doctor --timeout 2>&1)
hu_assert_contains "$out" "--timeout needs a duration" "doctor --timeout without a value"
out=$("$H" check-config --config /nonexistent 2>&1)
hu_assert_eq 66 "$?" "check-config --config /nonexistent exits 66 (EX_NOINPUT)"
hu_assert_contains "$out" "unable to open /nonexistent" "check-config: why the config cannot be read"
HOSTUP_CONFIG=/nonexistent "$H" check-config --policy "" >/dev/null 2>&1
hu_assert_eq 66 "$?" "check-config with HOSTUP_CONFIG missing: 66"
out=$("$H" check-config 2>&1)
hu_assert_eq 0 "$?" "check-config with nothing set: ok"
hu_assert_contains "$out" "ok: 0 rules; no HOSTUP_POLICY or HOSTUP_CONFIG rules, so the defaults apply to every target:" \
	"check-config with nothing set: the defaults apply"
hu_assert_contains "$out" "attempts=40 timeout=none deadline=30s" "check-config with nothing set: what the defaults are"
# control and bidi characters in what check-config quotes are escaped
# (U+202E written as its UTF-8 bytes: $'\u202e' depends on the locale, and
# a fresh machine's shell runs in C)
rlo=$'\xe2\x80\xae'
out=$("$H" check-config --policy "db"$'\e[31m'"$rlo"'\x attempts=3' 2>&1)
[[ $out == *$'\e'* || $out == *"$rlo"* ]] && hu_fail "check-config printed a raw control character: $(printf '%q' "$out")"
hu_assert_contains "$out" "'db\\x1B[31m\\u{202E}\\\\x': not a host name" "check-config escapes ESC, U+202E and the backslash"
out=$("$H" check-config --policy $'\xff\x01 off' 2>&1)
hu_assert_contains "$out" "'\\xFF\\x01'" "check-config escapes bytes that are not UTF-8"
out=$("$H" check-config --policy "héllo\\x attempts=abc" 2>&1)
hu_assert_contains "$out" "héllo\\\\x" "check-config: UTF-8 kept, the backslash doubled"
# hostup run checks the policy first; --lenient runs anyway
out=$("$H" run --policy '* attempts=abc' -- sh -c 'echo ran' 2>"$HU_TMP/err"); rc=$?
hu_assert_eq 78 "$rc" "run with a bad policy: exit 78 (EX_CONFIG)"
hu_assert_eq "" "$out" "run with a bad policy: the program is not started"
hu_assert_contains "$(cat "$HU_TMP/err")" "HOSTUP_POLICY:1:3: rule 1: 'attempts=abc': attempts must be a whole number" "run: the check-config message"
hu_assert_contains "$(cat "$HU_TMP/err")" "--lenient" "run: says how to run anyway"
out=$(HOSTUP_POLICY='x attempts=0' "$H" run -- sh -c 'echo ran' 2>/dev/null)
hu_assert_eq 78 "$?" "run: a bad HOSTUP_POLICY from the environment too"
out=$("$H" run --lenient --policy '* attempts=abc' --log off -- sh -c 'echo ran; exit 3' 2>/dev/null)
hu_assert_eq "3 ran" "$? $out" "run --lenient: the program runs, its exit status"
"$H" policy --lenient x >/dev/null 2>&1
hu_assert_eq 64 "$?" "--lenient is run's alone"
# --log fd:1: refused by the library (records never go to stdout); run says so
out=$("$H" run --log fd:1 -- sh -c 'echo out' 2>"$HU_TMP/err")
hu_assert_eq "out" "$out" "run --log fd:1: nothing of ours on stdout"
hu_assert_contains "$(cat "$HU_TMP/err")" "HOSTUP_LOG=fd:1 is refused: records never go into the program's output (stdout); they go to stderr" \
	"run --log fd:1: says why, on stderr"
hu_assert_eq 1 "$(wc -l <"$HU_TMP/err")" "run --log fd:1: in one line"
"$H" run --log fd:2 -- true 2>"$HU_TMP/err"
[[ -s $HU_TMP/err ]] && hu_fail "run --log fd:2 printed: $(cat "$HU_TMP/err")"
hu_ok "run --log fd:2: silent"

# --- bash completion ------------------------------------------------------------
C=$HU_ROOT/completion/hostup.bash
complete_words() { # WORDS... (the last is the word being completed)
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_hostup; printf "%s\n" "${COMPREPLY[@]}"' _ "$C" "$@"
}
hu_assert_eq "check-config" "$(complete_words hostup ch)" "completion: a command"
hu_assert_eq "$(printf '%s\n' report run)" "$(complete_words hostup r | sort)" "completion: commands by prefix"
hu_assert_eq "--timeout" "$(complete_words hostup doctor --t)" "completion: doctor's options"
hu_assert_eq "--lenient" "$(complete_words hostup run --le)" "completion: run --lenient"
hu_assert_eq "--listen" "$(complete_words hostup metrics --li)" "completion: metrics --listen"
hu_assert_eq "db:5432 attempts=" "$(complete_words hostup run --policy 'db:5432 att')" "completion: a --policy option name"
hu_assert_eq "$(printf '%s\n' budget= budget_min=)" "$(complete_words hostup policy --policy 'bud')" "completion: --policy names by prefix"
hu_assert_eq "* jitter=decorrelated" "$(complete_words hostup check-config --policy '* jitter=d')" "completion: a --policy value"
hu_assert_eq "metrics" "$(complete_words hostup help me)" "completion: help COMMAND"
# the names it offers are the parser's: the library's own list of options
# shellcheck disable=SC1090,SC2154
keys=$(. "$C"; tr ' ' '\n' <<<"$_hostup_policy_keys" | tr -d = | sort | tr '\n' ' ')
lib=$("$H" check-config --policy '* nosuch=1' 2>&1 | sed -n 's/.*unknown option (\([^)]*\)).*/\1/p' | tr -d ',' | tr ' ' '\n' | sort | tr '\n' ' ')
hu_assert_eq "$lib" "$keys" "completion: the --policy option names are the parser's"
for w in $(complete_words hostup run --policy 'jitter=') $(complete_words hostup run --policy 'so_error=') \
	$(complete_words hostup run --policy 'retry_on='); do
	"$H" check-config --policy "* $w" >/dev/null 2>&1 || hu_fail "completion offers '$w', which check-config refuses"
done
hu_ok "completion: every value it offers validates"
[[ -f $HU_TMP/root/usr/local/share/bash-completion/completions/hostup ]] || hu_fail "install: no bash completion"
hu_ok "install: the completion in \$(PREFIX)/share/bash-completion/completions/hostup"
make -s -C "$HU_ROOT" uninstall PREFIX=/usr/local DESTDIR="$HU_TMP/root" >/dev/null || hu_fail "make uninstall"
[[ -e $HU_TMP/root/usr/local/share/bash-completion/completions/hostup || -e $HU_TMP/root/usr/local/bin/hostup ]] &&
	hu_fail "make uninstall left the completion or the binary"
hu_ok "make uninstall removes the completion"
hu_done
