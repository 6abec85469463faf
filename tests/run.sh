#!/bin/sh
# The one test runner: runs every unit-test program and end-to-end script
# given on the command line, prints each result, and ends with the line
# "N passed, N failed". Exit status is non-zero when anything failed.
# Each test runs from the repository root with LIVECAP=build/livecap.
cd "$(dirname "$0")/.." || exit 2
export LIVECAP="$PWD/build/livecap" FIXTURES="${FIXTURES:-$PWD/../shared/fixtures}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
pass=0; fail=0; failed=""
logdir=build/test-logs; mkdir -p "$logdir"
for t in "$@"; do
    name=$(basename "$t")
    start=$(date +%s)
    case "$t" in
        *.sh) sh "$t" >"$logdir/$name.log" 2>&1 ;;
        *)    "$t" >"$logdir/$name.log" 2>&1 ;;
    esac
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf '  PASS  %-28s (%ss)\n' "$name" "$secs"
    else
        fail=$((fail + 1)); failed="$failed $name"
        printf '  FAIL  %-28s (%ss, exit %s)\n' "$name" "$secs" "$rc"
        sed 's/^/        | /' "$logdir/$name.log" | tail -n 25
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
