#!/bin/bash
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
hu_done
