#!/bin/sh
# livecap against whisper.cpp on the same model files, in one run (a
# benchmark, not a test). For each round and each model it runs
# whisper.cpp's whisper-bench, then `livecap bench --json`, back to back,
# so both see the same host load; each figure is the best over the rounds.
#   scripts/vs-whispercpp.sh [MODEL.bin …]
# No models: random-weight f16 models with the shapes of tiny, tiny.en,
# base and small (livecap genmodel, seed 1), whisper.cpp's ggml format.
# Env: WHISPER_BENCH (default build/whisper.cpp/bin/whisper-bench, made by
#      `make whispercpp`), WHISPER_BENCH_ARGS (extra options; default none:
#      whisper-bench's own defaults), LIVECAP (default build/livecap),
#      THREADS (default 2), ROUNDS (default 3).
#
# What is compared, per model:
#   encoder  whisper-bench's "encode time" of one 30-s window (after its
#            warm-up) against livecap bench's encode_ms (best of its reps);
#   decoder  whisper-bench's "decode time" per run: one token at a time at
#            positions 0…255 (logits for the whole vocabulary each time)
#            against livecap's decode_ms_per_token: one token at a time at
#            positions 64…127, logits and the greedy token's exact argmax.
# livecap's sgemm and bandwidth ratios of the same run come alongside.
set -u
cd "$(dirname "$0")/.." || exit 1
: "${WHISPER_BENCH:=build/whisper.cpp/bin/whisper-bench}" "${WHISPER_BENCH_ARGS:=}"
: "${LIVECAP:=build/livecap}" "${THREADS:=2}" "${ROUNDS:=3}"
if [ ! -x "$WHISPER_BENCH" ]; then
    echo "vs-whispercpp: $WHISPER_BENCH: no whisper-bench there (make whispercpp builds one; or set WHISPER_BENCH)" >&2
    exit 1
fi
[ -x "$LIVECAP" ] || { echo "vs-whispercpp: $LIVECAP: not built (make)" >&2; exit 1; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
if [ $# -eq 0 ]; then
    for s in tiny tiny.en base small; do
        "$LIVECAP" genmodel --shape "$s" "$tmp/$s.bin" >/dev/null || exit 1
        set -- "$@" "$tmp/$s.bin"
    done
fi
# not exec: the EXIT trap must still remove the models made above
python3 - "$WHISPER_BENCH" "$WHISPER_BENCH_ARGS" "$LIVECAP" "$THREADS" "$ROUNDS" "$tmp" "$@" <<'PY'
import json, re, subprocess, sys
wb, wb_args, lc, threads, rounds, tmp = sys.argv[1:7]
models, rounds = sys.argv[7:], int(rounds)

def fail(msg):
    sys.exit("vs-whispercpp: " + msg)

def whisper_bench(m):
    cmd = [wb, "-m", m, "-t", threads] + wb_args.split()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = r.stdout
    # whisper_print_timings:   encode time =   574.27 ms /     1 runs (   574.27 ms per run)
    fig = {}
    for what in ("encode", "decode", "prompt"):
        g = re.search(r"%s time =\s*[0-9.]+ ms /\s*\d+ runs \(\s*([0-9.]+) ms per run\)" % what, out)
        if g: fig[what] = float(g.group(1))
    if r.returncode != 0 or "encode" not in fig or "decode" not in fig:
        last = [l for l in out.splitlines() if l.strip()][-1:] or ["no output"]
        fail("%s -m %s: exit %d, no timings (%s)" % (wb, m, r.returncode, last[0].strip()))
    return fig

def livecap_bench(m):
    r = subprocess.run([lc, "bench", "-m", m, "-t", threads, "--json"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        fail("%s bench -m %s: exit %d: %s" % (lc, m, r.returncode, (r.stderr.strip().splitlines() or [""])[-1]))
    j = json.loads(r.stdout)
    row = j["models"][0]
    row["sgemm_gflops"], row["mem_gbps"] = j["sgemm_gflops"], j["mem_gbps"]
    return row

seen = {m: [] for m in models}
for rnd in range(rounds):
    for m in models:
        w = whisper_bench(m)
        l = livecap_bench(m)
        seen[m].append((w, l))
        print("round %d/%d %-28s whisper.cpp encode %8.1f decode %6.2f | livecap encode %8.1f decode %6.3f"
              % (rnd + 1, rounds, m.replace(tmp + "/", ""), w["encode"], w["decode"], l["encode_ms"],
                 l["decode_ms_per_token"]), file=sys.stderr)

print("livecap vs whisper.cpp (whisper-bench%s), %s threads, best of %d interleaved rounds"
      % (" " + wb_args if wb_args else "", threads, rounds))
print("  %-8s %12s %10s %7s %8s   %12s %10s %7s %6s" % ("model", "enc ms: w.cpp", "livecap", "×", "÷sgemm",
                                                    "dec ms: w.cpp", "livecap", "×", "÷bw"))
for m in models:
    ws = [w for w, _ in seen[m]]
    ls = [l for _, l in seen[m]]
    we, wd = min(w["encode"] for w in ws), min(w["decode"] for w in ws)
    le = min(ls, key=lambda l: l["encode_ms"])
    ld = min(ls, key=lambda l: l["decode_ms_per_token"])
    print("  %-8s %12.1f %10.1f %6.2f× %8.2f   %12.2f %10.3f %6.2f× %6.2f"
          % (ls[0]["type"], we, le["encode_ms"], we / le["encode_ms"], le["encode_vs_sgemm"],
             wd, ld["decode_ms_per_token"], wd / ld["decode_ms_per_token"], ld["decode_vs_bandwidth"]))
sg = [l["sgemm_gflops"] for m in models for _, l in seen[m]]
bw = [l["mem_gbps"] for m in models for _, l in seen[m]]
print("  sgemm %.1f–%.1f GFLOP/s, read bandwidth %.1f–%.1f GB/s over livecap's runs" % (min(sg), max(sg), min(bw), max(bw)))
PY
exit $?
