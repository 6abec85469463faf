#!/usr/bin/env python3
# shapes.py: the padded GEMM shapes livecap launches for the Whisper models,
# one "M K N" per line, from the tile constants in src/engine/bf16.h (the one
# place they are defined). npu.c names the artifacts gemm_<M>x<K>x<N>.
# Each GEMM is listed twice: K for --npu-precision bf16 and 3K for bf16x3
# (the default: the same kernel over [hi|hi|lo] x [hi;lo;hi], bf16.h).
import re
import sys
from pathlib import Path

hdr = (Path(__file__).resolve().parent.parent / "src/engine/bf16.h").read_text()
C = {k: int(v) for k, v in re.findall(r"#define (NPU_\w+) (\d+)", hdr)}
target = sys.argv[1] if len(sys.argv) > 1 else "npu1"
cols = C["NPU_COLS_NPU1"] if target == "npu1" else C["NPU_COLS_NPU2"]
up = lambda x, m: (x + m - 1) // m * m
shapes = set()
for d in (384, 512, 768, 1024, 1280):          # tiny, base, small, medium, large
    for K, N in ((d, d), (d, 4 * d), (4 * d, d), (3 * d, d)):  # attn, mlp, conv2 (im2col)
        for split in (1, C["NPU_SPLIT_BF16X3"]):
            shapes.add((C["NPU_CHUNK_M"], split * up(K, C["NPU_TILE_K"]), up(N, C["NPU_TILE_N"] * cols)))
    for n_mels in (80, 128):                     # conv1 (im2col)
        for split in (1, C["NPU_SPLIT_BF16X3"]):
            shapes.add((C["NPU_CHUNK_M"], split * up(3 * n_mels, C["NPU_TILE_K"]), up(d, C["NPU_TILE_N"] * cols)))
for n_mels in (80, 128):                         # mel: bf16x3 DFT GEMM, then the filter GEMM
    shapes.add((C["NPU_MEL_M"], C["NPU_MEL_KX"], C["NPU_MEL_N"]))
    for split in (1, C["NPU_SPLIT_BF16X3"]):
        shapes.add((C["NPU_MEL_M"], split * C["NPU_MEL_HALF"], up(n_mels, C["NPU_TILE_N"] * cols)))
extra = [tuple(map(int, s.split("x"))) for s in sys.argv[2:]]  # e.g. micro models: 1536x64x128
for M, K, N in sorted(shapes | set(extra)):
    print(M, K, N)
