#!/bin/sh
# Installs the Debian/Ubuntu packages livecap builds, runs and tests with.
set -e
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
PKGS="build-essential pkg-config portaudio19-dev libncurses-dev libopenblas-dev
 libfftw3-dev libiniparser-dev libsndfile1-dev libsamplerate0-dev zlib1g-dev
 tmux jackd2 clang libclang-rt-14-dev alsa-utils libasound2-plugins sox python3 valgrind"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
echo "deps: installed $(echo $PKGS | wc -w) packages"
