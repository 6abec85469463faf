#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ (checked into git;
rerun only to change them). Needs build/livecap (genmodel) and sox.

    python3 tests/fuzz/gen_seeds.py

Each corpus stays under 64 KB. Model inputs start with the mode byte of
fuzz_model.c (0 = whole file, 1 = tensors after a state-1 header, 2 =
tensors after a state-32 header).
"""
import os, struct, subprocess, sys, tempfile

root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
corpus = os.path.join(root, 'tests', 'fuzz', 'corpus')

def out(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

# ---- model ----------------------------------------------------------------
F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 = 0, 1, 2, 3, 6, 7, 8
BLOCK = {Q4_0: 18, Q4_1: 20, Q5_0: 22, Q5_1: 24, Q8_0: 34}

def tensor(name, ne, typ, data=None, cut=None):
    n = 1
    for x in ne: n *= x
    if data is None:
        if typ == F32: data = b''.join(struct.pack('<f', (i % 7) * 0.1) for i in range(n))
        elif typ == F16: data = b''.join(struct.pack('<e', (i % 5) * 0.2) for i in range(n))
        else: data = bytes((i * 37) & 0xff for i in range(n // 32 * BLOCK[typ]))
    if cut is not None: data = data[:cut]
    nb = name.encode()
    return struct.pack('<iii', len(ne), len(nb), typ) + b''.join(struct.pack('<i', x) for x in ne) + nb + data

s1 = [tensor('encoder.conv1.bias', [1, 1], F32),
      tensor('encoder.conv1.weight', [3, 1, 1], F16),
      tensor('decoder.positional_embedding', [1, 4], F32),
      tensor('encoder.blocks.0.mlp.0.weight', [1, 4], F16)]
out('fuzz_model', 'state1-valid', b'\x01' + b''.join(s1))
out('fuzz_model', 'state1-enc-pos', b'\x01' + tensor('encoder.positional_embedding', [1, 1500], F16))
out('fuzz_model', 'state1-truncated', b'\x01' + s1[0] + tensor('encoder.conv1.weight', [3, 1, 1], F32, cut=5))
out('fuzz_model', 'state1-bad-shape', b'\x01' + tensor('encoder.conv1.bias', [2, 1], F32))
out('fuzz_model', 'state1-duplicate', b'\x01' + s1[0] + s1[0])
out('fuzz_model', 'state1-unknown', b'\x01' + tensor('encoder.nonesuch', [1], F32))
out('fuzz_model', 'state32-quant', b'\x02' + b''.join(
    tensor('encoder.blocks.0.attn.%s.weight' % w, [32, 32], t)
    for w, t in (('query', Q4_0), ('key', Q4_1), ('value', Q5_0), ('out', Q5_1))) +
    tensor('encoder.blocks.0.mlp.0.weight', [32, 128], Q8_0))
out('fuzz_model', 'state32-q8-cut', b'\x02' + tensor('decoder.blocks.0.attn.query.weight', [32, 32], Q8_0, cut=1000))
out('fuzz_model', 'state32-bad-type', b'\x02' + tensor('decoder.blocks.0.attn.key.weight', [32, 32], 5, data=bytes(600)))

with tempfile.TemporaryDirectory() as td:
    p = os.path.join(td, 'm.bin')
    subprocess.run([os.path.join(root, 'build', 'livecap'), 'genmodel', '--state', '64', '--heads', '2',
                    '--layers', '1', '--text-layers', '1', '--ftype', 'q4_0', p],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    head = open(p, 'rb').read(8192)
    out('fuzz_model', 'genmodel-q4_0-prefix', b'\x00' + head)
# a whole-file header of the smallest legal shape, padded to pass the size check
hp = [51864, 1500, 1, 1, 1, 4, 1, 1, 1, 1, 0]
hdr = struct.pack('<I', 0x67676d6c) + struct.pack('<11i', *hp) + struct.pack('<ii', 1, 201) + bytes(201 * 4)
words = 27 * 1024 // 260 + 1
vocab = struct.pack('<i', words) + b''.join(struct.pack('<i', 256) + bytes([65 + i % 26]) * 256 for i in range(words))
out('fuzz_model', 'raw-state1', b'\x00' + hdr + vocab + s1[0] + s1[1])

# ---- audio ----------------------------------------------------------------
with tempfile.TemporaryDirectory() as td:
    def sox(name, *args, synth=('0.03', 'sine', '440')):
        p = os.path.join(td, name)
        subprocess.run(['sox', '-n', *args, p, 'synth', *synth], check=True, stderr=subprocess.DEVNULL)
        return open(p, 'rb').read()
    out('fuzz_audio', 's16-16k-mono.wav', sox('a.wav', '-r', '16000', '-c', '1', '-b', '16'))
    out('fuzz_audio', 'u8-8k-stereo.wav', sox('b.wav', '-r', '8000', '-c', '2', '-b', '8', '-e', 'unsigned'))
    out('fuzz_audio', 'f32-44k-mono.wav', sox('c.wav', '-r', '44100', '-c', '1', '-b', '32', '-e', 'float', synth=('0.01', 'sine', '440')))
    out('fuzz_audio', 's24-48k-stereo.wav', sox('d.wav', '-r', '48000', '-c', '2', '-b', '24', synth=('0.01', 'sine', '440')))
    out('fuzz_audio', 'mono-22k.flac', sox('e.flac', '-r', '22050', '-c', '1', '-b', '16'))
    out('fuzz_audio', 'mono-16k.ogg', sox('f.ogg', '-r', '16000', '-c', '1', synth=('0.05', 'sine', '440')))
    out('fuzz_audio', '3ch-11k.au', sox('g.au', '-r', '11025', '-c', '3', '-b', '16', synth=('0.01', 'sine', '440')))
    w = open(os.path.join(td, 'a.wav'), 'rb').read()
    out('fuzz_audio', 'truncated.wav', w[:100])
    # header claims far more data than present
    big = bytearray(w); big[40:44] = struct.pack('<I', 0x7ffffff0)
    out('fuzz_audio', 'claims-more.wav', bytes(big[:300]))
    out('fuzz_audio', 'not-audio.txt', b'hello, this is not audio\n')

# ---- config ---------------------------------------------------------------
ini = open(os.path.join(root, 'config', 'livecap.ini'), 'rb').read()
out('fuzz_config', 'default.ini', ini)
out('fuzz_config', 'small.ini', b'[model]\nbackend = cpu\nthreads = 2\n[stream]\nstep_ms = 500\n'
    b'[decode]\nlanguage = en\nbeam = 5\n\xfftranscribe\0-o\0json\0--beam\0003\0a.wav\0')
out('fuzz_config', 'live-args.ini', b'[audio]\nspeed = 2.5\n[ui]\ncolor = off\n'
    b'\xfflive\0--input\0x.wav\0--speed\0100\0--headless\0--jsonl\0-\0--save\0s.srt\0--max-tokens\08\0')
out('fuzz_config', 'bad-value.ini', b'[stream]\nmax_window_s = 999\nvad_threshold = nan\n[nosuch]\nx=1\n')
out('fuzz_config', 'bench-args.ini', b'\xffbench\0-m\0a.bin\0-m\0b.bin\0--json\0-t\00\0')
out('fuzz_config', 'help.ini', b'\xff--help\0')

# ---- ring / resampler -------------------------------------------------------
def ops(*seq):
    return b''.join(bytes([o]) + struct.pack('<H', n) for o, n in seq)
out('fuzz_ring', 'ring-fill-drain', b'\x00\x07' + ops((0, 200), (0, 100), (1, 50), (2, 300), (3, 10), (0, 400), (4, 0), (1, 1000)))
out('fuzz_ring', 'ring-tiny', b'\x00\x00' + ops((0, 3), (1, 1), (0, 2), (2, 5), (3, 2), (1, 2), (4, 1)))
out('fuzz_ring', 'resample-44k-stereo', b'\x01\x07\x01\x00' + ops((3, 441), (3, 1), (2, 100), (3, 0), (0, 0), (3, 2000)) + bytes(range(64)))
out('fuzz_ring', 'resample-extremes', b'\x01\x00\x00\x00' + ops((3, 1), (3, 7), (0, 0)) + bytes(range(0, 256, 3)))
out('fuzz_ring', 'resample-arbitrary', b'\x01\xc5\x34\x12' + ops((4, 999), (1, 0), (5, 17), (2, 3000)) + bytes(range(255, 0, -5)))
print('seeds written under', corpus)
