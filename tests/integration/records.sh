# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for tests that read hostup records.  Source after lib.sh.
HU_RECORDS=$HU_ROOT/tests/integration/records.py

# Runs CMD in the client ns under the library, records to $HU_TMP/NAME.log.
# Bounded (hu_run's HU_MAX) by default by the policy: its longest deadline
# (hostup's default 30 s for a rule without one) plus 30 s, so a deadline
# that does not hold fails the test in time, saying so.
#   hu_run_shim NAME POLICY CMD...
hu_run_shim() {
	local name=$1 policy=$2
	shift 2
	: >"$HU_TMP/$name.log"
	HU_MAX=${HU_MAX:-$(hu__policy_bound "$policy")} \
		hu_run env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$policy" HOSTUP_LOG="$HU_TMP/$name.log" "$@"
}

# POLICY -> seconds: the longest deadline of its rules plus 30
hu__policy_bound() {
	local rule rules max=0 v
	IFS=';' read -ra rules <<<"$1"
	((${#rules[@]})) || rules=("")
	for rule in "${rules[@]}"; do
		v=30000     # hostup's default deadline
		if [[ $rule =~ deadline=([0-9]+)(ms|s|m)( |$) ]]; then
			v=${BASH_REMATCH[1]}
			case ${BASH_REMATCH[2]} in s) v=$((v * 1000)) ;; m) v=$((v * 60000)) ;; esac
		fi
		((v > max)) && max=$v
	done
	echo $(((max + 999) / 1000 + 30))
}

# Validates every record and prints "retry=N recovered=N gave_up=N config_error=N".
hu_counts() { # NAME [--op OP]
	local f=$HU_TMP/$1.log
	shift
	"$HU_PY" "$HU_RECORDS" "$f" "$@" || hu_fail "records in $f are not valid"
}

# Values of FIELD in records of EVENT, one per line.  Fails the test when
# no record of EVENT has FIELD (never an empty answer): to assert that
# there is no such record, use hu_nrecords.
hu_field() { # NAME EVENT FIELD
	"$HU_PY" "$HU_RECORDS" "$HU_TMP/$1.log" --event "$2" --field "$3" ||
		hu_fail "hu_field $*: no $2 record with $3 in $1.log (or the records are not valid)"
}

# How many records of EVENT NAME.log holds (validating them all).
hu_nrecords() { # NAME EVENT
	"$HU_PY" "$HU_RECORDS" "$HU_TMP/$1.log" --event "$2" --count || hu_fail "records in $1.log are not valid"
}
