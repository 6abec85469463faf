#!/bin/sh
# Live pipeline figures for the README (a benchmark, not a test): plays
# jfk.wav + 3 s of silence at real time (speed 1) through `livecap live
# --input` with a random-weight tiny-shaped model on 2 threads, and prints
# final and partial latency p50/p95, the audio dropped, and the CPU cores
# used (process CPU time ÷ wall time).
#   scripts/live-bench.sh [extra livecap options, e.g. --max-tokens 32]
# Env: LIVECAP (default build/livecap), FIXTURES (default ../shared/fixtures),
#      THREADS (default 2).
set -u
cd "$(dirname "$0")/.." || exit 1
: "${LIVECAP:=build/livecap}" "${FIXTURES:=../shared/fixtures}" "${THREADS:=2}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
"$LIVECAP" genmodel "$tmp/tiny.bin" >/dev/null || exit 1
sox -n -r 16000 -c 1 -b 16 "$tmp/sil.wav" trim 0 3 && sox "$FIXTURES/jfk.wav" "$tmp/sil.wav" "$tmp/in.wav" || exit 1
python3 - "$LIVECAP" "$tmp" "$THREADS" "$@" <<'PY'
import json, resource, subprocess, sys, time
exe, tmp, threads, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
cmd = [exe, "live", "--input", tmp + "/in.wav", "--speed", "1", "--headless", "--jsonl", tmp + "/ev.jsonl",
       "-m", tmp + "/tiny.bin", "-t", threads] + extra
t0 = time.monotonic()
r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
if r.returncode != 0:
    sys.exit("livecap live exited %d" % r.returncode)
ev = [json.loads(l) for l in open(tmp + "/ev.jsonl")]
st = [e for e in ev if e["type"] == "stats"][-1]
fin = [e for e in ev if e["type"] == "final"]
print("live bench: tiny-shaped random model, %s threads, jfk.wav + 3 s silence at speed 1" % threads)
print("  command            %s" % " ".join(cmd[1:]).replace(tmp, "$TMP"))
print("  audio              %.1f s in %.1f s wall, %d finals" % (st["audio_s"], wall, len(fin)))
for k in ("final", "partial"):
    l = st["latency"][k]
    print("  %-8s latency   p50 %7.0f ms   p95 %7.0f ms   (n=%d)" % (k, l["p50_ms"], l["p95_ms"], l["n"]))
for k in ("encoder", "decoder"):
    s = st["stages"][k]
    print("  %-8s          p50 %7.0f ms   p95 %7.0f ms   (n=%d)" % (k, s["p50_ms"], s["p95_ms"], s["n"]))
print("  rtf (last 30 s)    %.2f" % st["rtf"])
print("  dropped            %d ms" % st["dropped_ms"])
print("  CPU cores used     %.2f (process CPU %.1f s / wall %.1f s)" % ((ru.ru_utime + ru.ru_stime) / wall,
                                                                      ru.ru_utime + ru.ru_stime, wall))
PY
