#!/bin/sh
# Builds whisper.cpp's `whisper-bench` for the side-by-side benchmark
# (scripts/vs-whispercpp.sh). It is the peer livecap's speed targets are
# stated against; it is not part of livecap and nothing links it.
#
# Where the sources come from: these machines reach Debian and the npm
# registry, not GitHub, and Debian 12 has no whisper.cpp package. The npm
# package nodejs-whisper 0.3.1 carries whisper.cpp 1.9.1's sources under
# cpp/whisper.cpp; it is pinned by its sha256 so that every comparison is
# with the same version. With a network and a git checkout of your own,
# point WHISPER_BENCH at its build/bin/whisper-bench instead.
#
# How it is built: whisper.cpp's own CMake defaults for this CPU
# (GGML_NATIVE: AVX2/AVX-512/VNNI/AMX as the compiler finds them, OpenMP),
# Release, static, only the whisper-bench target.
#   scripts/build-whispercpp.sh [DIR]     (default build/whisper.cpp)
# Result: DIR/bin/whisper-bench.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build/whisper.cpp}
pkg=nodejs-whisper@0.3.1
sha=92041caf2b26c74b7f489fedf37bd093f216eebd61df512045ec2d19d0531d37
if [ -x "$dir/bin/whisper-bench" ]; then echo "$dir/bin/whisper-bench"; exit 0; fi
for t in npm cmake c++; do
    command -v "$t" >/dev/null || { echo "build-whispercpp: '$t' not found (Debian: apt-get install $t)" >&2; exit 1; }
done
mkdir -p "$dir"
src=$(cd "$dir" && pwd)/src
if [ ! -f "$src/CMakeLists.txt" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>&1) || { echo "build-whispercpp: npm pack $pkg failed (no registry?)" >&2; exit 1; }
    tgz=$(ls "$tmp"/*.tgz)
    got=$(sha256sum "$tgz" | cut -d' ' -f1)
    [ "$got" = "$sha" ] || { echo "build-whispercpp: $pkg: sha256 $got, expected $sha" >&2; exit 1; }
    tar xzf "$tgz" -C "$tmp"
    rm -rf "$src" && mv "$tmp/package/cpp/whisper.cpp" "$src"
fi
echo "build-whispercpp: building whisper-bench in $dir (a few minutes on 2 cores)" >&2
cmake -S "$src" -B "$dir/cmake" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=OFF \
      -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_SERVER=OFF -DWHISPER_SDL2=OFF >"$dir/cmake.log" 2>&1 ||
    { echo "build-whispercpp: cmake configure failed, see $dir/cmake.log" >&2; exit 1; }
cmake --build "$dir/cmake" -j "$(nproc)" --target whisper-bench >>"$dir/cmake.log" 2>&1 ||
    { echo "build-whispercpp: build failed, see $dir/cmake.log" >&2; exit 1; }
mkdir -p "$dir/bin" && cp "$dir/cmake/bin/whisper-bench" "$dir/bin/"
echo "$dir/bin/whisper-bench"
