#!/bin/sh
# The NPU backend end to end on the emulated device (issue 6 acceptance):
#  1. fixtures (micro-en 80 mels, micro-v3 128 mels): npu-emu transcripts
#     agree with --backend cpu on >= 95% of tokens, with the default
#     --npu-precision bf16x3 and with plain bf16; the --dump mel is within
#     2e-2 of the fixture's mel.npy and of the CPU (FFTW) mel;
#  2. other audio (44.1 kHz stereo, digital silence, a sweep, a quiet tone in
#     noise, a full-scale square wave): npu-emu mel within 2e-2 of the CPU's;
#  3. injected faults (LIVECAP_NPU_FAULT): a timeout in the mel and one in the
#     encoder give the same tokens and segment boundaries as the CPU-only run
#     and as the fault-free npu-emu run (bf16x3, the default), exit 0, and
#     exactly one stderr line reporting the fallback count (>= 1); with plain
#     bf16 (which may change tokens against the CPU) the fault run equals the
#     fault-free bf16 run; an xclbin load fault switches the device off:
#     output identical to cpu;
#  4. live: stats carry util.npu > 0 with npu-emu, null with cpu;
#  5. without an NPU: --backend auto prints nothing on stderr, `devices`
#     says "accelerator: none (...)";
#  6. the XRT shim compiles (syntax only) against tests/xrt-stub, a STUB of
#     XRT 2.19's headers, and the XRT version check refuses 2.13.
set -u
: "${LIVECAP:=build/livecap}" "${FIXTURES:=../shared/fixtures}"
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
F=$FIXTURES; fail=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# cmp.py: json/npy comparisons (no numpy on CI images)
cat > "$T/cmp.py" <<'PY'
import array, ast, json, struct, sys
def npy(p):
    b = open(p, "rb").read()
    assert b[:6] == b"\x93NUMPY", p
    n, off = (struct.unpack("<H", b[8:10])[0], 10) if b[6] == 1 else (struct.unpack("<I", b[8:12])[0], 12)
    h = ast.literal_eval(b[off:off + n].decode())
    assert h["descr"] == "<f4" and not h["fortran_order"], h
    a = array.array("f"); a.frombytes(b[off + n:])
    return h["shape"], a
def toks(p):
    return json.load(open(p))["segments"]
what = sys.argv[1]
if what == "mel":            # mel A B TOL LABEL
    sa, a = npy(sys.argv[2]); sb, b = npy(sys.argv[3]); tol = float(sys.argv[4])
    assert sa == sb, (sa, sb)
    d = max(abs(x - y) for x, y in zip(a, b))
    print("%s: %s max|mel diff| %.2e (tolerance %g)" % (sys.argv[5], sa, d, tol))
    assert d <= tol
elif what == "agree":        # agree REF GOT MIN_FRACTION LABEL
    r = [t for s in toks(sys.argv[2]) for t in s["tokens"]]
    g = [t for s in toks(sys.argv[3]) for t in s["tokens"]]
    same = sum(x == y for x, y in zip(r, g)); n = max(len(r), len(g), 1)
    print("%s: %d/%d tokens identical (%.1f%%)" % (sys.argv[5], same, n, 100.0 * same / n))
    assert same >= float(sys.argv[4]) * n
elif what == "same":         # same REF GOT: tokens and segment boundaries identical
    r, g = toks(sys.argv[2]), toks(sys.argv[3])
    assert [(s["tokens"], s["start"], s["end"]) for s in r] == [(s["tokens"], s["start"], s["end"]) for s in g]
elif what == "identical":    # identical REF GOT: every segment field
    assert toks(sys.argv[2]) == toks(sys.argv[3])
elif what == "live":         # live JSONL npu|cpu
    ev = [json.loads(l) for l in open(sys.argv[2])]
    st = [e for e in ev if e["type"] == "stats"]
    assert ev[0]["type"] == "start" and st, "no start/stats"
    u = [e["util"]["npu"] for e in st]
    if sys.argv[3] == "npu":
        assert ev[0]["backend"] == "npu-emu", ev[0]
        assert all(x is None or 0 <= x <= 1 for x in u) and any(x is not None and x > 0 for x in u), u
    else:
        assert ev[0]["backend"] == "cpu", ev[0]
        assert all(x is None for x in u), u
    print("util.npu over %d stats events: %s" % (len(u), sorted(set(u), key=str)))
PY
cmp() { python3 "$T/cmp.py" "$@"; }
run() { # run NAME BACKEND MODEL AUDIO [OPTION...]: JSON in $T/NAME.json, stderr in .err, dump in $T/NAME/
    r_n=$1 r_be=$2 r_m=$3 r_a=$4; shift 4   # r_*: sh has no locals, keep clear of the callers' names
    "$LIVECAP" transcribe --backend "$r_be" -m "$r_m" -l en --no-fallback -o json --dump "$T/$r_n" "$@" "$r_a" \
        >"$T/$r_n.json" 2>"$T/$r_n.err" || { bad "$r_n: exit $? $(head -c 300 "$T/$r_n.err")"; return 1; }
}

# 1. fixtures
for fx in micro-en micro-v3; do
    m=$F/$fx/model-f32.bin
    run "$fx-cpu" cpu "$m" "$F/jfk.wav" && run "$fx-emu" npu-emu "$m" "$F/jfk.wav" || continue
    cmp agree "$T/$fx-cpu.json" "$T/$fx-emu.json" 0.95 "$fx npu-emu vs cpu" && ok "$fx: >= 95% tokens as cpu" || bad "$fx: token agreement"
    cmp mel "$T/$fx-emu/mel.npy" "$F/$fx/mel.npy" 2e-2 "$fx npu-emu vs fixture" && ok "$fx: mel vs mel.npy" || bad "$fx: mel vs mel.npy"
    cmp mel "$T/$fx-emu/mel.npy" "$T/$fx-cpu/mel.npy" 2e-2 "$fx npu-emu vs cpu" && ok "$fx: mel vs cpu" || bad "$fx: mel vs cpu"
    [ ! -s "$T/$fx-emu.err" ] && ok "$fx: npu-emu silent on stderr without faults" || bad "$fx: stderr '$(cat "$T/$fx-emu.err")'"
    run "$fx-b16" npu-emu "$m" "$F/jfk.wav" --npu-precision bf16 &&
        { cmp agree "$T/$fx-cpu.json" "$T/$fx-b16.json" 0.95 "$fx npu-emu (plain bf16) vs cpu" &&
          ok "$fx: plain bf16: >= 95% tokens as cpu" || bad "$fx: plain bf16 token agreement"; }
done

# 2. other audio: mel only (the micro models' text is not the point here)
sox -n -r 44100 -c 2 -b 16 "$T/st44.wav" synth 6 sine 220 sine 3300 synth 6 pinknoise mix vol 0.2 &&
sox -n -r 16000 -e float -b 32 "$T/zero.wav" trim 0 4 &&
sox -n -r 16000 -e float -b 32 "$T/sweep.wav" synth 6 sine 50-7900 vol 0.7 &&
sox -n -r 16000 -e float -b 32 "$T/quiet.wav" synth 5 sine 300 synth 5 whitenoise mix vol 0.001 &&
sox -n -r 16000 -e float -b 32 "$T/square.wav" synth 4 square 123 vol 0.5 || bad "sox"
i=0
for a in st44 zero sweep quiet square; do
    fx=micro-en; [ $((i % 2)) -eq 1 ] && fx=micro-v3; i=$((i + 1))
    run "$a-cpu" cpu "$F/$fx/model-f32.bin" "$T/$a.wav" && run "$a-emu" npu-emu "$F/$fx/model-f32.bin" "$T/$a.wav" || continue
    cmp mel "$T/$a-emu/mel.npy" "$T/$a-cpu/mel.npy" 2e-2 "$a ($fx) npu-emu vs cpu" && ok "$a: mel vs cpu" || bad "$a: mel vs cpu"
done

# 3. faults. Launches 1-16 are jfk's mel (8 batches x DFT + filter GEMMs),
# the encoder's follow: timeout@3 hits the mel, timeout@30 the encoder.
for spec in timeout@3 timeout@30; do
    for fx in micro-en micro-v3; do
        n=$fx-$(echo "$spec" | tr -c 'a-z0-9\n' _)
        LIVECAP_NPU_FAULT=$spec run "$n" npu-emu "$F/$fx/model-f32.bin" "$F/jfk.wav" || continue
        cmp same "$T/$fx-emu.json" "$T/$n.json" && ok "$fx $spec: same as the fault-free npu-emu run" || bad "$fx $spec: differs from npu-emu"
        cmp same "$T/$fx-cpu.json" "$T/$n.json" && ok "$fx $spec: same tokens and boundaries as the cpu run" || bad "$fx $spec: differs from cpu"
        if [ "$(wc -l <"$T/$n.err")" -eq 1 ] &&
           grep -Eq '^livecap: NPU \(emulated\): 1 device error, [1-9][0-9]* ops? fell back to the CPU \(last: .*timed out' "$T/$n.err"; then
            ok "$fx $spec: fallback reported: $(cat "$T/$n.err")"
        else bad "$fx $spec: stderr '$(cat "$T/$n.err")'"; fi
    done
done
for fx in micro-en micro-v3; do  # plain bf16: the fallback is exact against its own fault-free run
    LIVECAP_NPU_FAULT=timeout@30 run "$fx-b16-t30" npu-emu "$F/$fx/model-f32.bin" "$F/jfk.wav" --npu-precision bf16 &&
        { cmp same "$T/$fx-b16.json" "$T/$fx-b16-t30.json" && grep -q "fell back to the CPU" "$T/$fx-b16-t30.err" &&
          ok "$fx plain bf16 timeout@30: same as the fault-free bf16 run" || bad "$fx plain bf16 timeout@30"; }
done
LIVECAP_NPU_FAULT=load run load npu-emu "$F/micro-v3/model-f32.bin" "$F/jfk.wav" &&
    { cmp identical "$T/micro-v3-cpu.json" "$T/load.json" && grep -q "device off" "$T/load.err" &&
      ok "load fault: device off, output identical to cpu" || bad "load fault: $(cat "$T/load.err")"; }
LIVECAP_NPU_FAULT=bogus "$LIVECAP" transcribe --backend npu-emu -m "$F/micro-en/model-f32.bin" "$F/jfk.wav" >/dev/null 2>"$T/bogus.err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/bogus.err")" -eq 1 ] && grep -q LIVECAP_NPU_FAULT "$T/bogus.err" &&
    ok "bad LIVECAP_NPU_FAULT: exit 1, one line" || bad "bad LIVECAP_NPU_FAULT: exit $rc '$(cat "$T/bogus.err")'"

# 4. live util.npu (micro-en keeps the emulated encoder fast on 2 shared cores)
for be in npu-emu cpu; do
    "$LIVECAP" live --input "$F/jfk.wav" --speed 4 --headless --jsonl "$T/live-$be.jsonl" --backend $be \
        -m "$F/micro-en/model-f32.bin" -t 2 --max-tokens 16 >/dev/null 2>"$T/live-$be.err" \
        || { bad "live $be: exit $? $(head -c 300 "$T/live-$be.err")"; continue; }
    k=cpu; [ $be = npu-emu ] && k=npu
    cmp live "$T/live-$be.jsonl" $k && ok "live $be: util.npu" || bad "live $be: util.npu"
done

# 5. without an NPU nothing about it runs or prints
if ls /dev/accel/accel* >/dev/null 2>&1; then
    echo "skip no-NPU checks: /dev/accel exists here"
else
    "$LIVECAP" transcribe -m "$F/micro-en/model-f32.bin" -o json "$F/jfk.wav" >"$T/auto.json" 2>"$T/auto.err" &&
        [ ! -s "$T/auto.err" ] && ! grep -qi npu "$T/auto.json" && ok "auto: nothing about the NPU" ||
        bad "auto: stderr '$(cat "$T/auto.err")'"
    "$LIVECAP" devices >"$T/dev.out" 2>&1
    grep -q '^accelerator: none (' "$T/dev.out" && ok "devices: $(grep accelerator "$T/dev.out")" || bad "devices: $(cat "$T/dev.out")"
fi

# 6. the shim compiles against the XRT stub; the version check refuses 2.13
if command -v g++ >/dev/null 2>&1; then
    g++ -std=c++17 -Wall -Wextra -Werror -fsyntax-only -Isrc/engine -Itests/xrt-stub/include src/engine/npu_shim.cpp \
        && ok "npu_shim.cpp compiles against tests/xrt-stub (XRT 2.19 stub, syntax only)" || bad "npu_shim.cpp syntax"
    make -s --no-print-directory npu-xrt-check XRT_ROOT=tests/xrt-stub >/dev/null 2>&1 && ok "XRT 2.19 accepted" || bad "XRT 2.19 refused"
    mkdir -p "$T/x213/include/xrt/detail"
    echo '#define XRT_VERSION_CODE XRT_VERSION(2, 13)' >"$T/x213/include/xrt/detail/version.h"
    make -s --no-print-directory npu-xrt-check XRT_ROOT="$T/x213" >/dev/null 2>"$T/x213.err" && bad "XRT 2.13 accepted" ||
        { grep -q "2.13" "$T/x213.err" && ok "XRT 2.13 refused"; } || bad "XRT 2.13 message '$(cat "$T/x213.err")'"
else
    echo "skip shim syntax check: no g++"
fi
exit $fail
