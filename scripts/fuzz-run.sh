#!/bin/sh
# Runs each libFuzzer target built by `make fuzz-build` for SECONDS seconds,
# one after the other (the machine has 2 cores shared with the rest of CI).
#   scripts/fuzz-run.sh SECONDS fuzz_model fuzz_audio …
# A crash, a leak, a timeout (10 s on one input) or an RSS above 2 GB fails
# the target; the input is left in build/fuzz/artifacts/. Prints one line
# per target with its executions and exec/s, and exits non-zero if any
# target failed.
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${1:?usage: $0 SECONDS TARGET...}; shift
dir=build/fuzz
mkdir -p "$dir/artifacts" "$dir/logs"
fail=0; summary=""
for t in "$@"; do
    case "$t" in
        fuzz_model)  maxlen=65536 ;;   # mode 0 needs ≥ 27 KB to pass the size check
        fuzz_audio)  maxlen=16384 ;;
        fuzz_config) maxlen=4096 ;;
        *)           maxlen=8192 ;;
    esac
    mkdir -p "$dir/corpus/$t"
    log="$dir/logs/$t.log"
    echo "  FUZZ  $t for ${secs}s (log: $log)"
    # The first corpus directory receives new inputs; the seeds stay as
    # they are in git.
    ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1" \
    LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$dir/$t" -max_total_time="$secs" -timeout=10 -detect_leaks=1 -rss_limit_mb=2048 \
        -max_len="$maxlen" -print_final_stats=1 -close_fd_mask=1 \
        -artifact_prefix="$dir/artifacts/$t-" \
        "$dir/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    line=$(printf '%-12s %10s execs in %ss (%s/s), %s, exit %s' "$t" "${execs:-?}" "$secs" "${rate:-?}" "${cov:-cov: ?}" "$rc")
    summary="$summary$line
"
    if [ $rc -ne 0 ]; then
        fail=1
        echo "  FAIL  $t (exit $rc):"
        grep -E 'ERROR|SUMMARY|Test unit written|timeout|leak' "$log" | head -n 20 | sed 's/^/        | /'
    fi
done
printf '%s' "$summary"
[ $fail -eq 0 ]
