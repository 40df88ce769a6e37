# shellcheck shell=bash
# Helpers for tests that read hostup records.  Source after lib.sh.
HU_RECORDS=$HU_ROOT/tests/integration/records.py

# Runs CMD in the client ns under the library, records to $HU_TMP/NAME.log.
#   hu_run_shim NAME POLICY CMD...
hu_run_shim() {
	local name=$1 policy=$2
	shift 2
	: >"$HU_TMP/$name.log"
	hu_run env LD_PRELOAD="$HU_PRELOAD" HOSTUP_POLICY="$policy" HOSTUP_LOG="$HU_TMP/$name.log" "$@"
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
