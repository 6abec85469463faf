#!/bin/sh
# t_vs_whispercpp.sh: scripts/vs-whispercpp.sh, the side-by-side benchmark,
# against a stand-in whisper-bench that prints whisper.cpp's timing lines:
# the stand-in is called with the model and thread count, the best of the
# rounds is what the table shows, the ratios are whisper.cpp ÷ livecap of
# the figures printed, and a missing or failing whisper-bench gives one line
# naming it and exit 1. (The real whisper-bench is built by `make
# whispercpp`; timings are not tested, SPEC §5 / issue #7.)
LIVECAP="${LIVECAP:-build/livecap}"
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
bad() { echo "FAIL: $*"; fail=1; }
[ -x "$LIVECAP" ] || { echo "FAIL: $LIVECAP is not built"; exit 1; }
export LIVECAP THREADS=2
"$LIVECAP" genmodel --shape tiny.en --state 64 --heads 2 --layers 2 "$tmp/m.bin" >/dev/null 2>&1 || bad "genmodel"

# The stand-in: encode times come from $tmp/enc (one per call, in order),
# its arguments go to $tmp/args.
cat >"$tmp/wb" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/args"
n=\$(wc -l <"$tmp/args")
e=\$(sed -n "\${n}p" "$tmp/enc")
echo "system_info: n_threads = 2 / 2 | CPU : AVX2 = 1 |" >&2
echo "whisper_print_timings:     load time =    90.12 ms" >&2
echo "whisper_print_timings:   encode time =   \$e ms /     1 runs (   \$e ms per run)" >&2
echo "whisper_print_timings:   decode time =  1024.00 ms /   256 runs (     4.00 ms per run)" >&2
echo "whisper_print_timings:   prompt time =  3407.50 ms /  4096 runs (     0.83 ms per run)" >&2
EOF
chmod +x "$tmp/wb"
printf '700.00\n600.00\n' >"$tmp/enc"

mkdir "$tmp/td"
ROUNDS=2 WHISPER_BENCH="$tmp/wb" TMPDIR="$tmp/td" sh scripts/vs-whispercpp.sh "$tmp/m.bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || bad "vs-whispercpp exited $rc: $(tail -n 3 "$tmp/err")"
[ -z "$(ls -A "$tmp/td")" ] || bad "vs-whispercpp left its temporary directory behind: $(ls -A "$tmp/td")"
[ "$(wc -l <"$tmp/args")" -eq 2 ] || bad "the stand-in ran $(wc -l <"$tmp/args") times over 2 rounds"
grep -qx -- "-m $tmp/m.bin -t 2" "$tmp/args" || bad "the stand-in got '$(head -n 1 "$tmp/args")'"
[ "$(grep -c '^round ' "$tmp/err")" -eq 2 ] || bad "not one progress line per round: $(cat "$tmp/err")"
row=$(sed -n 3p "$tmp/out")    # title, header, then the model's row
echo "$row" | grep -q '^  micro ' || bad "no row for the model (type micro) in: $(cat "$tmp/out")"
# model, w.cpp enc, livecap enc, ×, ÷sgemm, w.cpp dec, livecap dec, ×, ÷bw
echo "$row" | awk '{
    x1 = $2 / $3; x2 = $6 / $7; sub(/×/, "", $4); sub(/×/, "", $8)
    if ($2 != "600.0") { print "encode: best of the stand-in is 600.0, table says " $2; bad = 1 }
    if ($6 != "4.00")  { print "decode: the stand-in says 4.00, table says " $6; bad = 1 }
    if ($3 <= 0 || $7 <= 0) { print "livecap figures missing: " $0; bad = 1 }
    if ((x1 - $4) ^ 2 > 0.0001 + (x1 * 0.01) ^ 2) { print "encode ratio " $4 " is not " $2 "/" $3; bad = 1 }
    if ((x2 - $8) ^ 2 > 0.0001 + (x2 * 0.01) ^ 2) { print "decode ratio " $8 " is not " $6 "/" $7; bad = 1 }
    if ($5 <= 0 || $9 <= 0) { print "ratios to sgemm/bandwidth missing: " $0; bad = 1 }
    exit bad }' || bad "table row '$row'"
grep -q 'sgemm .* GFLOP/s, read bandwidth .* GB/s' "$tmp/out" || bad "no sgemm/bandwidth line"

# No whisper-bench: one line naming the path it looked for.
WHISPER_BENCH="$tmp/nowhere/whisper-bench" sh scripts/vs-whispercpp.sh "$tmp/m.bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || bad "missing whisper-bench: exit $rc, want 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$tmp/nowhere/whisper-bench" "$tmp/err" ||
    bad "missing whisper-bench: stderr '$(cat "$tmp/err")'"

# A whisper-bench that fails on the model: one line naming model and reason.
printf '#!/bin/sh\necho "error: failed to initialize whisper context" >&2\nexit 3\n' >"$tmp/wbad"
chmod +x "$tmp/wbad"
ROUNDS=1 WHISPER_BENCH="$tmp/wbad" sh scripts/vs-whispercpp.sh "$tmp/m.bin" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] || bad "failing whisper-bench: exit $rc, want 1"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "$tmp/m.bin: exit 3.*failed to initialize whisper context" "$tmp/err" ||
    bad "failing whisper-bench: stderr '$(cat "$tmp/err")'"

[ $fail -eq 0 ] && echo "t_vs_whispercpp: ok"
exit $fail
