#!/bin/bash
# Run each libFuzzer harness for a while; print executions and crashes per
# harness and write the table to tests/fuzz/results.md.
#   tests/fuzz/run.sh SECONDS NAME...      (make fuzz FUZZ_SECONDS=N)
# Seeds come from tests/fuzz/corpus/NAME (read only); new inputs go to
# build/fuzz/corpus/NAME, crashes to build/fuzz/artifacts/NAME/.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift
names=("$@")
out=tests/fuzz/results.md

max_len() {
    case $1 in
    policy) echo 4096 ;;      # rules, options up to the 1100-byte token limit
    config) echo 8192 ;;      # JSON rules; text is cut at 2 KiB inside
    env)    echo 12288 ;;     # resolv.conf is read up to 4 KiB: go past it
    mounts) echo 8192 ;;      # a mountinfo table of a few dozen lines
    log)    echo 4096 ;;      # the harness blows strings up itself
    *)      echo 4096 ;;
    esac
}

rows=()
total_crashes=0
for n in "${names[@]}"; do
    bin=build/fuzz/fuzz_$n
    corpus=build/fuzz/corpus/$n
    art=build/fuzz/artifacts/$n/
    mkdir -p "$corpus" "$art"
    log=build/fuzz/$n.log
    len=$(max_len "$n")
    before=$(ls "$art" | wc -l)
    echo "== fuzz_$n: ${secs}s, -max_len=$len"
    # -timeout: one input taking 10 s is a hang worth a report
    "$bin" -max_total_time="$secs" -max_len="$len" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$art" "$corpus" "tests/fuzz/corpus/$n" \
        >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$runs" ] || runs=0
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    after=$(ls "$art" | wc -l)
    crashes=$((after - before))
    arts=$(ls -t "$art" | head -$crashes | tr '\n' ' ')
    total_crashes=$((total_crashes + crashes))
    echo "   executions: $runs (${speed:-?}/s), coverage: ${cov:-?}, crashes: $crashes, exit: $rc"
    if [ "$crashes" -gt 0 ]; then
        echo "   artifacts: $arts"
        grep -m3 -E 'ERROR: |runtime error|fuzz check failed' "$log" | sed 's/^/   /'
    fi
    rows+=("| fuzz_$n | $secs | $len | $runs | ${speed:-?} | ${cov:-?} | $(ls "$corpus" | wc -l) | $crashes |")
done

# hand-written notes below "## Findings" survive a rerun
findings=""
[ -f "$out" ] && findings=$(sed -n '/^## Findings/,$p' "$out")
{
    echo "# Fuzzing results"
    echo
    echo "\`make fuzz FUZZ_SECONDS=$secs\` on $(date -u +%Y-%m-%d), $(clang --version | head -1),"
    echo "libFuzzer with ASan and UBSan; $(nproc) cores, harnesses run one after another."
    echo "Crashes: inputs saved in build/fuzz/artifacts/<name>/ during the run."
    echo
    echo "| harness | seconds | max_len | executions | exec/s | coverage | corpus | crashes |"
    echo "|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    if [ -n "$findings" ]; then
        echo
        printf '%s\n' "$findings"
    fi
} >"$out"
echo "summary in $out"
sed -n "/^| harness/,/^$/p" "$out"
[ "$total_crashes" -eq 0 ]
