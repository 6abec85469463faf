#!/bin/sh
# Virtual microphones for tests, no sound hardware needed.
#
#   tests/virtual_mic.sh start DIR RAWFILE [paced]
#       Writes DIR/.asoundrc defining the ALSA PCM `livecap_test` (unpaced:
#       capture runs as fast as it is read) that captures RAWFILE (raw
#       float32 little-endian, interleaved; livecap opens 2 channels). With
#       `paced`, also starts a jackd `dummy` server (48 kHz, 10 ms periods)
#       and defines `livecap_paced`, which delivers RAWFILE in real time at
#       48 kHz stereo. Prints the environment to use, e.g.
#           eval "$(tests/virtual_mic.sh start /tmp/x /tmp/x/in.raw paced)"
#           $LIVECAP devices        # lists livecap_test and livecap_paced
#   tests/virtual_mic.sh stop DIR
#       Stops that jackd (by the pid it recorded) and removes its files.
#
# RAWFILE from any audio file: sox in.wav -r 48000 -c 2 -e float -b 32 -t raw in.raw
set -u
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start DIR RAWFILE [paced] | stop DIR" >&2; exit 2; }
case "$cmd" in
start)
    raw=${3:-}; paced=${4:-}
    [ -r "$raw" ] || { echo "virtual_mic: $raw: cannot read" >&2; exit 1; }
    mkdir -p "$dir" || exit 1
    sed "s#@INFILE@#$raw#g" "$here/asoundrc.in" > "$dir/.asoundrc"
    echo "export HOME='$dir'; unset ALSA_CONFIG_PATH XDG_CONFIG_HOME"
    [ "$paced" = paced ] || exit 0
    command -v jackd >/dev/null || { echo "virtual_mic: jackd not found (apt-get install --no-install-recommends jackd2)" >&2; exit 1; }
    sed "s#@INFILE@#$raw#g" "$here/asoundrc_paced.in" >> "$dir/.asoundrc"
    server="livecap-$$"
    # -r: no real-time scheduling (containers rarely allow it); the dummy
    # driver still clocks periods by the system timer.
    JACK_NO_AUDIO_RESERVATION=1 jackd -r -n "$server" -d dummy -r 48000 -p 480 -C 2 -P 2 \
        >"$dir/jackd.log" 2>&1 &
    echo $! > "$dir/jackd.pid"
    if ! JACK_DEFAULT_SERVER="$server" jack_wait -w -s "$server" -t 10 >/dev/null 2>&1; then
        echo "virtual_mic: jackd did not start (see $dir/jackd.log)" >&2
        kill "$(cat "$dir/jackd.pid")" 2>/dev/null; exit 1
    fi
    echo "export JACK_DEFAULT_SERVER='$server' JACK_NO_START_SERVER=1"
    ;;
stop)
    if [ -f "$dir/jackd.pid" ]; then
        pid=$(cat "$dir/jackd.pid")
        kill "$pid" 2>/dev/null
        i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
        rm -f "$dir/jackd.pid"
    fi
    ;;
*) echo "usage: $0 start DIR RAWFILE [paced] | stop DIR" >&2; exit 2 ;;
esac
