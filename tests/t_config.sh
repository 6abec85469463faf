#!/bin/sh
# t_config.sh: the configuration as the user meets it through build/livecap:
# --help, usage errors (exit 2, one line on stderr naming the culprit), and
# the default config file found next to the binary (SPEC §1).
# Run from the repository root; $LIVECAP is the binary.
LIVECAP="${LIVECAP:-build/livecap}"
fail=0
tmp=$(mktemp -d) || exit 1
tmp=$(cd "$tmp" && pwd -P)    # livecap reports the canonical path
trap 'rm -rf "$tmp"' EXIT
# Keep the user's own configuration out of the test.
unset LIVECAP_CONFIG NO_COLOR
export XDG_CONFIG_HOME="$tmp/xdg"

bad() { echo "FAIL: $*"; fail=1; }

[ -x "$LIVECAP" ] || { echo "FAIL: $LIVECAP is not built"; exit 1; }

# --help: exit 0, every option listed.
"$LIVECAP" --help >"$tmp/help" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] || bad "--help exited $rc"
for opt in --model --config --beam --backend --threads --language --no-fallback \
           --output-format --dump --device --input --speed --headless --jsonl --save --json; do
    grep -q -- "$opt" "$tmp/help" || bad "--help does not list $opt"
done
grep -q 'livecap transcribe \[options\] FILE' "$tmp/help" || bad "--help lacks the synopsis"

# expect_usage_error PATTERN CMD…: exit 2, stdout empty, exactly one stderr
# line, which matches PATTERN (a fixed string).
expect_usage_error() {
    pattern=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
    [ $rc -eq 2 ] || bad "$*: exit $rc, want 2"
    [ ! -s "$tmp/out" ] || bad "$*: wrote to stdout"
    [ "$(wc -l <"$tmp/err")" -eq 1 ] || bad "$*: stderr is not one line: $(cat "$tmp/err")"
    grep -qF -- "$pattern" "$tmp/err" || bad "$*: stderr '$(cat "$tmp/err")' lacks '$pattern'"
}

expect_usage_error "unknown option '--bogus' (see livecap --help)" "$LIVECAP" --bogus
expect_usage_error "--beam: must be an integer from 1 to 16, got \"0\"" "$LIVECAP" transcribe --beam=0 x.wav
expect_usage_error "--backend: must be one of auto|cpu|npu|npu-emu" "$LIVECAP" --backend gpu
expect_usage_error "LIVECAP_THREADS: must be an integer" env LIVECAP_THREADS=lots "$LIVECAP" devices
expect_usage_error 'LIVECAP_ISA: must be scalar, avx2 or avx512, and one this CPU runs, got "avx3"' \
    env LIVECAP_ISA=avx3 "$LIVECAP" devices
env LIVECAP_ISA=scalar "$LIVECAP" --version >/dev/null 2>&1 || bad "LIVECAP_ISA=scalar refused"

printf '[decode]\nbeam = 2\n\n[backend]\nthreads = many\n' >"$tmp/bad.ini"
expect_usage_error "$tmp/bad.ini:5: backend.threads: must be an integer from 0 to 256, got \"many\"" \
    "$LIVECAP" -c "$tmp/bad.ini" devices
printf '[decode]\nbeam = 2\n[ui]\nfont = big\n' >"$tmp/bad.ini"
expect_usage_error "$tmp/bad.ini:4: ui.font: unknown key" "$LIVECAP" devices -c "$tmp/bad.ini"
expect_usage_error "$tmp/missing.ini: cannot read the config file" "$LIVECAP" -c "$tmp/missing.ini" devices
expect_usage_error "$tmp/bad.ini:4: ui.font:" env LIVECAP_CONFIG="$tmp/bad.ini" "$LIVECAP" devices

# XDG_CONFIG_HOME's file is read when there is no -c or $LIVECAP_CONFIG.
mkdir -p "$tmp/xdg/livecap"
printf '[output]\noutput_format = pdf\n' >"$tmp/xdg/livecap/livecap.ini"
expect_usage_error "$tmp/xdg/livecap/livecap.ini:2: output.output_format: must be one of txt|srt|vtt|json" \
    "$LIVECAP" devices
rm "$tmp/xdg/livecap/livecap.ini"

# Without any of those, <binary's dir>/../config/livecap.ini: copy the binary
# into a fake tree whose config file is broken, and see that file reported.
mkdir -p "$tmp/repo/build" "$tmp/repo/config"
cp "$LIVECAP" "$tmp/repo/build/livecap"
printf '[stream]\nmax_window_s = 60\n' >"$tmp/repo/config/livecap.ini"
expect_usage_error "$tmp/repo/config/livecap.ini:2: stream.max_window_s: must be an integer from 5 to 30" \
    "$tmp/repo/build/livecap" devices

# The shipped file loads cleanly in the real binary (devices may still fail
# for lack of audio hardware, with exit 1; never with a usage error).
timeout 60 "$LIVECAP" -c config/livecap.ini devices >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -ne 2 ] || bad "config/livecap.ini rejected: $(cat "$tmp/err")"

[ $fail -eq 0 ] && echo "t_config: ok"
exit $fail
