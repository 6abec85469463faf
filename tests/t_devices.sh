#!/bin/sh
# `livecap devices` lists a virtual ALSA capture device (tests/asoundrc.in,
# no sound hardware needed), prints no PortAudio/ALSA/JACK chatter on
# stderr, and says so plainly when there are no devices.
set -u
: "${LIVECAP:=build/livecap}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unset ALSA_CONFIG_PATH XDG_CONFIG_HOME
# One second of float32 silence is enough to be listed (content is test_capture's job).
head -c 352800 /dev/zero > "$tmp/in.raw"

# 1. No devices at all (empty HOME): exit 0, a clear line, no noise.
mkdir "$tmp/empty"
HOME="$tmp/empty" "$LIVECAP" devices >"$tmp/out0" 2>"$tmp/err0"; rc=$?
[ $rc -eq 0 ] || fail "devices with no devices exited $rc"
[ -s "$tmp/err0" ] && { cat "$tmp/err0"; fail "stderr not empty (chatter leaked)"; }
grep -q '^accelerator: ' "$tmp/out0" || fail "no accelerator line"
if ! grep -q '^[* ] *[0-9]' "$tmp/out0"; then
    grep -q 'no capture devices found' "$tmp/out0" || fail "no devices, but no 'no capture devices found' line"
fi

# 2. The virtual device is listed with its index, channels and rate.
mkdir "$tmp/home"
sed "s#@INFILE@#$tmp/in.raw#g" tests/asoundrc.in > "$tmp/home/.asoundrc"
HOME="$tmp/home" "$LIVECAP" devices >"$tmp/out" 2>"$tmp/err"; rc=$?
cat "$tmp/out"
[ $rc -eq 0 ] || fail "devices exited $rc"
[ -s "$tmp/err" ] && { cat "$tmp/err"; fail "stderr not empty (chatter leaked)"; }
line=$(grep 'livecap_test' "$tmp/out") || fail "livecap_test not listed"
echo "$line" | grep -Eq '^[* ] +[0-9]+ +[0-9]+ +[0-9]+ +livecap_test' || fail "bad row: $line"
grep -q '^\*' "$tmp/out" || fail "no default input marked"
grep -q '^accelerator: ' "$tmp/out" || fail "no accelerator line"
grep -q 'no capture devices found' "$tmp/out" && fail "claims no devices"
echo "ok"
