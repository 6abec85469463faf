#!/bin/sh
# t_tui.sh: the live screen (issue 5) under tmux, on a random-weight model.
# 100x30 with colors: header (model, CPU), transcript lines, the stage table
# with numbers, CPU/NPU rows (NPU n/a), RTF; `p` pauses (elapsed audio stops),
# `p` resumes (it grows), `s` saves, a resize to 60x20 and 30x8 survives,
# `q` exits 0 with a complete SRT (as many cues as the end event's finals).
# 80x24 with NO_COLOR: the same screen checks and no color escapes. No model:
# the screen names `make model`, the download script and the models dir.
# The last 100x30 screen is printed to the log (for the README).
set -u
: "${LIVECAP:=build/livecap}" "${FIXTURES:=../shared/fixtures}"
command -v tmux >/dev/null || { echo "FAIL: tmux not installed"; exit 1; }
tmp=$(mktemp -d) || exit 1
T="tmux -L livecap-test-$$ -f /dev/null"
trap '$T kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
fail() {
    echo "FAIL: $*"
    [ -s "$tmp/pane" ] && { echo "--- last screen:"; cat "$tmp/pane"; }
    [ -s "$tmp/err" ] && { echo "--- stderr:"; cat "$tmp/err"; }
    exit 1
}
model=$tmp/tiny.en.bin
"$LIVECAP" genmodel --shape tiny.en "$model" >/dev/null 2>&1 || fail "genmodel"
# jfk twice (22 s) so the keys land while audio still flows
sox "$FIXTURES/jfk.wav" "$FIXTURES/jfk.wav" "$tmp/jfk2.wav" || fail sox

snap() { $T capture-pane -p -t lc > "$tmp/pane" 2>/dev/null; }
# wait_for REGEX SECONDS: poll the screen until REGEX (grep -E) shows up
wait_for() {
    i=0
    while [ $i -lt $(($2 * 10)) ]; do
        snap; grep -Eq -- "$1" "$tmp/pane" && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# the elapsed audio clock of the header (mm:ss.d)
elapsed() { snap; head -n 1 "$tmp/pane" | grep -Eo '[0-9]{2}:[0-9]{2}\.[0-9]' | tail -n 1; }
# start NAME COLS ROWS ENV...: livecap live in a detached tmux session
start() {
    name=$1 cols=$2 rows=$3; shift 3
    rm -f "$tmp/rc"
    $T new-session -d -s lc -x "$cols" -y "$rows" \
        "env TERM=xterm-256color LC_ALL=C.UTF-8 $* '$LIVECAP' live -m '$model' --input '$tmp/jfk2.wav' \
         --save '$tmp/$name.srt' --jsonl '$tmp/$name.jsonl' --max-tokens 24 -t 2 2>'$tmp/err'; \
         echo EXIT=\$? > '$tmp/rc'; sleep 600" || fail "tmux new-session"
}
# wait_final NAME: a committed line (not just the dimmed partial) exists
wait_final() {
    i=0
    while [ $i -lt 900 ] && ! grep -q '"type":"final"' "$tmp/$1.jsonl" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
    grep -q '"type":"final"' "$tmp/$1.jsonl" || { snap; fail "$1: no final within 90 s"; }
}
# finish NAME: q, then exit 0 and a complete SRT
finish() {
    $T send-keys -t lc q
    i=0; while [ $i -lt 600 ] && [ ! -s "$tmp/rc" ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(cat "$tmp/rc" 2>/dev/null)" = "EXIT=0" ] || fail "$1: q: $(cat "$tmp/rc" 2>/dev/null || echo 'no exit within 60 s')"
    python3 "$tmp/srt.py" "$tmp/$1.srt" "$tmp/$1.jsonl" || fail "$1: saved SRT incomplete"
    $T kill-session -t lc
}
# screen_checks: what the issue's acceptance lists
screen_checks() {
    head -n 1 "$tmp/pane" | grep -q 'tiny.en.bin' || fail "$1: header lacks the model"
    head -n 1 "$tmp/pane" | grep -q 'CPU' || fail "$1: header lacks the backend"
    head -n 1 "$tmp/pane" | grep -Eq '[0-9]{2}:[0-9]{2}\.[0-9]' || fail "$1: header lacks the elapsed time"
    grep -Eq '^ \[[0-9]{2}:[0-9]{2}\] [^ ]' "$tmp/pane" || fail "$1: no transcript line"
    for st in capture mel encoder decoder; do
        grep -Eq "│ $st +CPU +[0-9.]+m?s +[0-9.]+m?s" "$tmp/pane" || fail "$1: stage row '$st' without numbers"
    done
    grep -Eq '│ CPU +.* +[0-9]+% [0-9]+ cores' "$tmp/pane" || fail "$1: no CPU row"
    grep -Eq '│  (mel|decode) +.*[0-9]+%' "$tmp/pane" || fail "$1: no per-worker CPU rows"
    grep -Eq '│ NPU +n/a' "$tmp/pane" || fail "$1: no NPU n/a row"
    grep -Eq 'RTF +[0-9]+\.[0-9]{2} +(keeping up|falling behind|measuring)' "$tmp/pane" || fail "$1: no RTF"
    grep -q 'q quit' "$tmp/pane" || fail "$1: no footer"
}

cat > "$tmp/srt.py" <<'PY'
import json, re, sys
txt = open(sys.argv[1], encoding="utf-8", errors="replace").read()
assert txt == "" or txt.endswith("\n\n"), "last cue cut: %r" % txt[-40:]
cues = [c for c in txt.split("\n\n") if c.strip()]
for i, c in enumerate(cues):
    l = c.split("\n")
    assert l[0] == str(i + 1), l
    assert re.fullmatch(r"\d\d:\d\d:\d\d,\d\d\d --> \d\d:\d\d:\d\d,\d\d\d", l[1]), l
    assert len(l) > 2 and l[2], l
if len(sys.argv) > 2:
    ev = [json.loads(x) for x in open(sys.argv[2])]
    assert ev[-1]["type"] == "end", ev[-1]
    assert ev[-1]["finals"] == len(cues) > 0, (ev[-1], len(cues))
    assert sum(e["type"] == "stats" for e in ev) >= 2, "no stats events under the TUI"
print("srt ok:", len(cues), "cues")
PY

# 1. 100x30, colors
start big 100 30
wait_final big
wait_for '^ \[[0-9]{2}:[0-9]{2}\] [^ ]' 10 || fail "100x30: no transcript line"
$T send-keys -t lc p
wait_for 'PAUSED' 5 || fail "100x30: p did not pause"
sleep 0.5
a=$(elapsed); sleep 1.5; b=$(elapsed)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "100x30: elapsed audio grew while paused ($a -> $b)"
snap; screen_checks 100x30
$T capture-pane -e -p -t lc | grep -Eo "$(printf '\033')\[[0-9;]*m" | grep -Eq '\[([0-9;]*;)?(3[0-7]|38;5;[0-9]+)(;[0-9;]*)?m' \
    || fail "100x30: no colors on the screen"
$T send-keys -t lc p
wait_for 'REC' 5 || fail "100x30: p did not resume"
sleep 1.5; c=$(elapsed)
[ "$c" != "$b" ] || fail "100x30: elapsed audio did not grow after resuming ($b -> $c)"
$T send-keys -t lc s
wait_for 'saved: [0-9]+ finals? in ' 5 || fail "100x30: s did not save"
python3 "$tmp/srt.py" "$tmp/big.srt" || fail "100x30: the SRT after s does not parse"
$T send-keys -t lc '?'
wait_for 'clear the screen \(not the transcript\)' 5 || fail "100x30: ? shows no help"
$T send-keys -t lc '?'
$T resize-window -t lc -x 60 -y 20
wait_for 'RTF [0-9.]+ ' 5 || fail "60x20: no compact stats line"
[ "$(head -n 1 "$tmp/pane" | wc -L)" -le 60 ] || fail "60x20: the header overflows"
$T resize-window -t lc -x 30 -y 8
wait_for 'terminal too small' 5 || fail "30x8: no 'too small' line"
$T resize-window -t lc -x 100 -y 30
wait_for '│ NPU +n/a' 5 || fail "back to 100x30: no stats panel"
[ -s "$tmp/rc" ] && fail "livecap exited during the resizes: $(cat "$tmp/rc")"
snap; cp "$tmp/pane" "$tmp/readme-screen"
finish big

# 2. 80x24, NO_COLOR
start small 80 24 NO_COLOR=1
wait_final small
wait_for '^ \[[0-9]{2}:[0-9]{2}\] [^ ]' 10 || fail "80x24: no transcript line"
wait_for 'encoder +CPU +[0-9.]+m?s' 10 || fail "80x24: no encoder timings"
screen_checks 80x24
[ "$(wc -L < "$tmp/pane")" -le 80 ] || fail "80x24: a line overflows"
$T capture-pane -e -p -t lc | grep -Eo "$(printf '\033')\[[0-9;]*m" | grep -E '\[([0-9;]*;)?(3[0-7]|38;5;[0-9]+)(;[0-9;]*)?m' \
    > "$tmp/sgr" && fail "80x24: colors despite NO_COLOR: $(cat -v "$tmp/sgr" | sort -u | tr '\n' ' ')"
finish small

# 2b. SIGTERM under the screen: transcript flushed complete, terminal restored
start sig 100 30
wait_final sig
$T display -p -t lc '#{alternate_on}' | grep -q 1 || fail "sig: the screen is not on the alternate screen"
ppid=$($T display -p -t lc '#{pane_pid}')
lpid=$(pgrep -P "$ppid" -f livecap | head -n 1)
[ -n "$lpid" ] || fail "sig: no livecap process"
kill -TERM "$lpid"
i=0; while [ $i -lt 600 ] && [ ! -s "$tmp/rc" ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat "$tmp/rc" 2>/dev/null)" = "EXIT=0" ] || fail "sig: SIGTERM: $(cat "$tmp/rc" 2>/dev/null || echo 'no exit within 60 s')"
[ "$($T display -p -t lc '#{alternate_on}')" = 0 ] || fail "sig: terminal not restored after SIGTERM"
python3 "$tmp/srt.py" "$tmp/sig.srt" "$tmp/sig.jsonl" || fail "sig: saved SRT incomplete after SIGTERM"
$T kill-session -t lc

# 3. no model: the screen says what to run and where the file goes
mkdir -p "$tmp/xdg"
rm -f "$tmp/rc"
$T new-session -d -s lc -x 100 -y 30 \
    "env TERM=xterm-256color LC_ALL=C.UTF-8 XDG_DATA_HOME='$tmp/xdg' LIVECAP_CONFIG=/dev/null \
     '$LIVECAP' live --input '$tmp/jfk2.wav' 2>'$tmp/err'; echo EXIT=\$? > '$tmp/rc'; sleep 600" || fail tmux
wait_for 'scripts/download-model.sh tiny.en' 20 || fail "no-model screen"
grep -q 'make model' "$tmp/pane" || fail "no-model screen lacks 'make model'"
grep -q "$tmp/xdg/livecap/models/ggml-tiny.en.bin" "$tmp/pane" || fail "no-model screen lacks where the model goes"
$T send-keys -t lc x
i=0; while [ $i -lt 100 ] && [ ! -s "$tmp/rc" ]; do sleep 0.1; i=$((i + 1)); done
[ "$(cat "$tmp/rc" 2>/dev/null)" = "EXIT=1" ] || fail "no model: $(cat "$tmp/rc" 2>/dev/null || echo 'no exit')"
grep -q "make model" "$tmp/err" && [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "no model: stderr: $(cat "$tmp/err")"

echo "--- the 100x30 screen before q:"
cat "$tmp/readme-screen"
echo "ok"
