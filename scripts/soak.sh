#!/bin/sh
# Soak test (issue 8): pushes SOAK_SECONDS of audio (default 3600) through
# the live pipeline at SOAK_SPEED × real time (default 10) with a
# random-weight tiny-shaped model, and reports:
#   - RSS growth after warm-up (VmRSS sampled every 2 s from /proc; the
#     warm-up is the first 20% of the run, at least 10 s): must be ≤ 5 MB;
#   - the lag trend: the least-squares slope of lag_ms over audio_s from the
#     stats events (ms of lag per s of audio; flat ≈ 0, bounded by the
#     pipeline's backlog cap when it cannot keep up);
#   - the finals count, dropped audio and the max lag.
# At high speed the pipeline falls behind by design and drops audio
# (dropped_ms); the lag must stay bounded, not grow.
#   SOAK_SECONDS=300 scripts/soak.sh      (the CI version)
#   SOAK_RSS_OUT=FILE keeps the RSS samples ("seconds kB" per line)
# Exit status: 0, or 1 if livecap failed, RSS grew more than 5 MB, or the
# lag grew (slope > 50 ms/s over the run after warm-up).
set -u
cd "$(dirname "$0")/.." || exit 2
secs=${SOAK_SECONDS:-3600}
speed=${SOAK_SPEED:-10}
LIVECAP=${LIVECAP:-build/livecap}
FIXTURES=${FIXTURES:-../shared/fixtures}
tmp=$(mktemp -d) || exit 1
trap '[ -n "${SOAK_RSS_OUT:-}" ] && cp "$tmp/rss" "$SOAK_RSS_OUT"; rm -rf "$tmp"' EXIT
"$LIVECAP" genmodel --shape tiny --ftype q8_0 "$tmp/tiny.bin" >/dev/null 2>&1 || { echo "soak: genmodel failed"; exit 1; }
# jfk (11 s) + 4 s of silence, repeated to secs
sox -n -r 16000 -c 1 -b 16 "$tmp/sil.wav" trim 0 4 || exit 1
sox "$FIXTURES/jfk.wav" "$tmp/sil.wav" "$tmp/unit.wav" || exit 1
reps=$(( (secs + 14) / 15 ))
sox "$tmp/unit.wav" "$tmp/soak.wav" repeat $((reps - 1)) trim 0 "$secs" || exit 1
echo "soak: $secs s of audio at ${speed}x ($(( secs / speed )) s of wall time), tiny-shaped q8_0 random model"
(exec "$LIVECAP" live --input "$tmp/soak.wav" --speed "$speed" --headless --jsonl "$tmp/soak.jsonl" \
    -m "$tmp/tiny.bin" -t 2 --max-tokens 8 >/dev/null 2>"$tmp/err") &
pid=$!
t0=$(date +%s)
while kill -0 $pid 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status 2>/dev/null)
    [ -n "$rss" ] && echo "$(( $(date +%s) - t0 )) $rss" >> "$tmp/rss"
    sleep 2
done
wait $pid; rc=$?
[ $rc -eq 0 ] || { cat "$tmp/err"; echo "soak: livecap exited $rc"; exit 1; }
python3 - "$tmp/soak.jsonl" "$tmp/rss" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
st = [e for e in ev if e["type"] == "stats"]
fin = [e for e in ev if e["type"] == "final"]
end = ev[-1]
assert end["type"] == "end", end
rss = [tuple(map(int, l.split())) for l in open(sys.argv[2])]
wall = rss[-1][0] if rss else 0
warm = max(10, wall * 0.2)
after = [kb for t, kb in rss if t >= warm]
base = after[0] if after else 0
growth_mb = (max(after) - base) / 1024 if after else 0.0
xs = [s["audio_s"] for s in st]
w0 = warm * (end["audio_s"] / max(wall, 1))
pts = [(s["audio_s"], s["lag_ms"]) for s in st if s["audio_s"] >= w0]
n = len(pts)
slope = 0.0
if n > 2:
    mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    den = sum((p[0] - mx) ** 2 for p in pts)
    slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / den if den else 0.0
print("soak: audio %.0f s, wall %d s, %d finals, %d stats events" % (end["audio_s"], wall, len(fin), len(st)))
print("soak: RSS after warm-up (%d s): %.1f MB -> max %.1f MB, growth %.2f MB (limit 5 MB)"
      % (warm, base / 1024, max(after) / 1024 if after else 0, growth_mb))
print("soak: lag slope %.2f ms per s of audio after warm-up (max lag %.0f ms), dropped %.0f s"
      % (slope, max((s["lag_ms"] for s in st), default=0), st[-1]["dropped_ms"] / 1000 if st else 0))
ok = growth_mb <= 5.0 and slope <= 50 and len(fin) > 0
print("soak:", "PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
PY
