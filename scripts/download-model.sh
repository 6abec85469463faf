#!/bin/sh
# Downloads a real Whisper model (ggml format) from the whisper.cpp model
# repository into $XDG_DATA_HOME/livecap/models (default
# ~/.local/share/livecap/models) and checks its SHA-1.
#   usage: scripts/download-model.sh NAME      e.g. tiny.en, base, small.en
# Needs a network connection; livecap itself never downloads anything.
set -eu
name=${1:-}
[ -n "$name" ] || { echo "usage: $0 NAME (tiny, tiny.en, base, base.en, small, small.en, medium, medium.en, large-v1, large-v2, large-v3, large-v3-turbo)" >&2; exit 2; }

# SHA-1s from the model table in whisper.cpp's models/README.md.
case "$name" in
    tiny)      sha=bd577a113a864445d4c299885e0cb97d4ba92b5f ;;
    tiny.en)   sha=c78c86eb1a8faa21b369bcd33207cc90d64ae9df ;;
    base)      sha=465707469ff3a37a2b9b8d8f89f2f99de7299dac ;;
    base.en)   sha=137c40403d78fd54d454da0f9bd998f78703390c ;;
    small)     sha=55356645c2b361a969dfd0ef2c5a50d530afd8d5 ;;
    small.en)  sha=db8a495a91d927739e50b3fc1cc4c6b8f6c2d022 ;;
    medium)    sha=fd9727b6e1217c2f614f9b698455c4ffd82463b4 ;;
    medium.en) sha=8c30f0e44ce9560643ebd10bbe50cd20eafd3723 ;;
    large-v1)  sha=b1caaf735c4cc1429223d5a74f0f4d0b9b59a299 ;;
    large-v2)  sha=0f4c8e34f21cf1a914c59d8b3ce882345ad349d6 ;;
    large-v3|large-v3-turbo|*-q5_0|*-q5_1|*-q8_0) sha= ;;  # no published SHA-1 known to us
    *) echo "$0: unknown model '$name'" >&2; exit 2 ;;
esac

dir="${XDG_DATA_HOME:-$HOME/.local/share}/livecap/models"
out="$dir/ggml-$name.bin"
url="https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-$name.bin"
mkdir -p "$dir"
if [ -f "$out" ]; then echo "$out already exists"; exit 0; fi
echo "downloading $url"
if command -v curl >/dev/null; then curl -fL --progress-bar -o "$out.part" "$url"
elif command -v wget >/dev/null; then wget -q --show-progress -O "$out.part" "$url"
else echo "$0: needs curl or wget" >&2; exit 1; fi
if [ -n "$sha" ]; then
    got=$(sha1sum "$out.part" | cut -d' ' -f1)
    if [ "$got" != "$sha" ]; then
        rm -f "$out.part"
        echo "$0: $name: SHA-1 mismatch (got $got, expected $sha); download removed" >&2
        exit 1
    fi
else
    echo "note: no published SHA-1 for $name; the file was not verified" >&2
fi
mv "$out.part" "$out"
echo "saved $out"
