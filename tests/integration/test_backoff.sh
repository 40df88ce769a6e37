#!/bin/bash
# SPDX-License-Identifier: MIT
# The backoff schedule as the real library applies it, read from the retry
# records' delay_ms and their times: the multiplier, the cap, each jitter
# (none, full, equal, decorrelated) within its range and really random, and
# every wait really waited.  And an unknown or misspelt policy option is
# refused: by `hostup check-config` (exit 1, named), `hostup policy`, and the
# library (a config_error record, the rule not applied).
# No root needed: the records come from a refused connect to 127.0.0.1
# port 1 with ECONNREFUSED made retryable; every record is its own line
# (HOSTUP_LOG_WINDOW=0s) and the process retries alone (HOSTUP_SHARED=off).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/records.sh"
hu_need_lib
hu_need_tools hu_connect
H=$HU_BUILD/hostup
[[ -x $H ]] || hu_fail "missing $H"
C=$HU_TOOLS/hu_connect
unset HOSTUP_POLICY HOSTUP_CONFIG HOSTUP_LOG
R="retry_on=+ECONNREFUSED"

# brun NAME POLICY: hu_connect to the closed port under POLICY, records to
# $HU_TMP/NAME.log; sets HU_OUT (bounded: 30 s)
brun() {
	: >"$HU_TMP/$1.log"
	HU_OUT=$(hu_bounded 30 "hu_connect under '$2'" env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$2" \
		HOSTUP_LOG="$HU_TMP/$1.log" HOSTUP_LOG_WINDOW=0s HOSTUP_SHARED=off "$C" 127.0.0.1 1 2>/dev/null)
	echo "run $1: '$2' -> $HU_OUT"
}
delays() { hu_field "$1" retry delay_ms | tr '\n' ' '; }
# every wait waited: the next record comes at least delay_ms later
waited() { # NAME
	"$HU_PY" - "$HU_TMP/$1.log" <<-'EOF' || hu_fail "$1: a retry came before its delay was over (above)"
		import json, sys
		recs = [json.loads(l) for l in open(sys.argv[1])]
		bad = [(a["attempt"], a["delay_ms"], b["elapsed_ms"] - a["elapsed_ms"])
		       for a, b in zip(recs, recs[1:]) if a["event"] == "retry"
		       and b["elapsed_ms"] - a["elapsed_ms"] < a["delay_ms"] - 1]
		for b in bad:
		    print("attempt %d: delay_ms %d, next record %d ms later" % b, file=sys.stderr)
		sys.exit(1 if bad else 0)
	EOF
	hu_ok "$1: every retry waited its delay_ms"
}
# stats NAME -> "N MIN MAX DISTINCT" of the delays
stats() { delays "$1" | tr ' ' '\n' | awk 'NF { n++; v[$1]; if (n == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
	END { d = 0; for (k in v) d++; print n, lo, hi, d }'; }

# --- jitter=none: first * multiplier^n, held at the cap
brun none "* attempts=8 backoff=10ms..80ms multiplier=2 jitter=none $R"
hu_assert_eq "error ECONNREFUSED" "$HU_OUT" "the program gets the refusal in the end"
hu_assert_eq "retry=7 recovered=0 gave_up=1 config_error=0" "$(hu_counts none)" "attempts=8: 7 retries, then gave_up"
hu_assert_eq "10 20 40 80 80 80 80 " "$(delays none)" "jitter=none: 10, 20, 40, then the cap 80"
waited none
el=$(hu_field none gave_up elapsed_ms)
hu_assert_ge "$el" 390 "jitter=none: the waits add up (gave_up elapsed_ms)"
hu_assert_le "$el" 1500 "jitter=none: and no more than that, plus 8 quick tries"
brun mult "* attempts=5 backoff=20ms..50ms multiplier=3 jitter=none $R"
hu_assert_eq "20 50 50 50 " "$(delays mult)" "multiplier=3: 20, then 60 held at the cap 50"

# --- the random jitters: 39 delays of a fixed 40 ms backoff each; the
# odds of a range half empty by chance are under 1e-5
brun full "* attempts=40 backoff=40ms..40ms jitter=full $R"
read -r n lo hi d <<<"$(stats full)"
hu_assert_eq 39 "$n" "jitter=full: 39 retries"
hu_assert_ge "$lo" 0 "jitter=full: delays from 0"
hu_assert_le "$hi" 40 "jitter=full: delays up to the backoff, never past it"
hu_assert_lt "$lo" 12 "jitter=full: the low part of [0, 40] is used"
hu_assert_gt "$hi" 28 "jitter=full: the high part of [0, 40] is used"
hu_assert_ge "$d" 8 "jitter=full: random, not one value"
waited full
brun equal "* attempts=40 backoff=40ms..40ms jitter=equal $R"
read -r n lo hi d <<<"$(stats equal)"
hu_assert_ge "$lo" 20 "jitter=equal: at least half the backoff"
hu_assert_le "$hi" 40 "jitter=equal: at most the backoff"
hu_assert_lt "$lo" 26 "jitter=equal: the low part of [20, 40] is used"
hu_assert_gt "$hi" 34 "jitter=equal: the high part of [20, 40] is used"
hu_assert_ge "$d" 6 "jitter=equal: random, not one value"
waited equal
# decorrelated: each delay between the first backoff and 3 x the previous
# one (the first from the first backoff), never past the cap
brun decor "* attempts=30 backoff=10ms..200ms jitter=decorrelated $R"
bad=$(delays decor | awk '{ p = 10; for (i = 1; i <= NF; i++) { hi = 3 * p; if (hi > 200) hi = 200
	if ($i < 10 || $i > hi) print "delay " i ": " $i " not in [10, " hi "]"; p = $i } }')
hu_assert_eq "" "$bad" "jitter=decorrelated: each delay in [first, min(cap, 3 x previous)]"
read -r n lo hi d <<<"$(stats decor)"
hu_assert_eq 29 "$n" "jitter=decorrelated: 29 retries"
hu_assert_ge "$d" 8 "jitter=decorrelated: random, not one value"
hu_assert_gt "$hi" 40 "jitter=decorrelated: it climbs above 3 x the first"
waited decor

# --- an unknown or misspelt option, a bad value: refused
for bad in "bogus=1" "jiter=none" "atempts=3"; do
	out=$("$H" check-config --policy "* attempts=3 $bad" 2>&1)
	hu_assert_eq 1 "$?" "check-config '$bad': exit 1"
	hu_assert_contains "$out" "'$bad': unknown option" "check-config '$bad': the option is named"
done
out=$("$H" check-config --policy "* jitter=sometimes" 2>&1)
hu_assert_eq 1 "$?" "check-config jitter=sometimes: exit 1"
hu_assert_contains "$out" "jitter must be full, equal, decorrelated or none" "check-config: a bad jitter value is named"
out=$("$H" check-config --json --policy "* attempts=3 bogus=1")
hu_assert_eq 1 "$?" "check-config --json, unknown option: exit 1"
hu_assert_eq "False 0 1" "$("$HU_PY" -c 'import json,sys; d=json.load(sys.stdin)
print(d["ok"], d["rules"], sum("unknown option" in e["reason"] for e in d["errors"]))' <<<"$out")" \
	"check-config --json: not ok, no rule kept, the error says unknown option"
printf '{"rules": [{"match": "*", "atempts": 3}]}\n' >"$HU_TMP/typo.json"
out=$("$H" check-config --policy "" --config "$HU_TMP/typo.json" 2>&1)
hu_assert_eq 1 "$?" "check-config: a misspelt key in a JSON config exits 1"
hu_assert_contains "$out" "unknown option" "check-config: the JSON key is refused as an unknown option"
out=$("$H" policy --policy "* attempts=3 bogus=1" x:1 2>"$HU_TMP/policy.err")
hu_assert_contains "$(<"$HU_TMP/policy.err")" "'bogus=1': unknown option" "hostup policy: says the option is unknown"
hu_assert_contains "$out" "no rule matches; the defaults apply" "hostup policy: the refused rule does not match"
# the library: one config_error naming it, and the rule is not applied (the
# defaults do not retry ECONNREFUSED)
brun unknown "* attempts=5 backoff=10ms..10ms $R zap=1"
hu_assert_eq "error ECONNREFUSED" "$HU_OUT" "unknown option: the program runs, libc's result"
hu_assert_eq "retry=0 recovered=0 gave_up=0 config_error=1" "$(hu_counts unknown)" \
	"unknown option: one config_error, and the rule is not applied (no retry)"
hu_assert_contains "$(hu_field unknown config_error reason)" "'zap=1': unknown option" "unknown option: the record names it"
hu_done
