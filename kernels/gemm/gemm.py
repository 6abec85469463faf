#!/usr/bin/env python3
# gemm.py: IRON (mlir-aie) design of livecap's NPU GEMM, C[M,N] = A[M,K] · B[K,N]
# with bf16 A/B and f32 C, over a 4-row x COLS-column block of compute tiles
# ("whole array" pattern of the mlir-aie programming examples; written for
# livecap, not copied). Prints MLIR on stdout; kernels/Makefile feeds it to
# aiecc.py. UNTESTED on silicon and not compiled in the project's CI (no
# toolchain there): see docs/npu.md.
#
# Shapes: M = NPU_CHUNK_M (1500 encoder rows padded to 1536, a multiple of
# m*rows = 256; the host zero-pads), K padded to k, N padded to n*cols.
# Tile sizes m, k, n come from src/engine/bf16.h via the Makefile.
#
# Data movement per column c (shim tile (c,0) -> memory tile (c,1) -> cores):
#   A: row-block of m*rows rows, split by the memory tile into one m x k tile
#      per core row (same A row for all columns: each shim sends its share)
#   B: k x n tile for column c, broadcast to the 4 cores of that column
#   C: the 4 cores' m x n f32 tiles joined in the memory tile, then to DDR
# The memory-tile DMAs re-layout A/B/C into the mmul-blocked shapes that
# mm_bf16_f32.cc expects ([m/r][k/s][r][s], [k/s][n/t][s][t], [m/r][n/t][r][t]).
import argparse
import sys

import numpy as np
from ml_dtypes import bfloat16

try:  # IRON's module layout moved between mlir-aie releases
    from aie.iron import Kernel, ObjectFifo, Program, Runtime, Worker
    from aie.iron.placers import SequentialPlacer
    from aie.iron.device import NPU1Col4, NPU2, Tile
    from aie.iron.controlflow import range_
except ImportError:  # pragma: no cover
    sys.exit("gemm.py: this mlir-aie has no aie.iron API (need a 2025 release)")
from aie.helpers.taplib import TensorTiler2D

ROWS = 4


def design(dev_name, M, K, N, m, k, n, cols, r, s, t):
    assert M % (m * ROWS) == 0 and K % k == 0 and N % (n * cols) == 0
    assert m % r == 0 and k % s == 0 and n % t == 0
    assert cols <= ROWS and ROWS % cols == 0
    dev = NPU1Col4() if dev_name == "npu1" else NPU2()
    a_per_shim = ROWS // cols  # A row tiles each shim column carries
    depth = 2

    A_ty = np.ndarray[(M * K,), np.dtype[bfloat16]]
    B_ty = np.ndarray[(K * N,), np.dtype[bfloat16]]
    C_ty = np.ndarray[(M * N,), np.dtype[np.float32]]
    A_l2 = np.ndarray[(m * k * a_per_shim,), np.dtype[bfloat16]]
    B_l2 = np.ndarray[(k * n,), np.dtype[bfloat16]]
    C_l2 = np.ndarray[(m * n * ROWS,), np.dtype[np.float32]]
    A_l1 = np.ndarray[(m, k), np.dtype[bfloat16]]
    B_l1 = np.ndarray[(k, n), np.dtype[bfloat16]]
    C_l1 = np.ndarray[(m, n), np.dtype[np.float32]]

    obj = f"mm_{m}x{k}x{n}.o"
    k_zero = Kernel("zero_f32", obj, [C_l1])
    k_mm = Kernel("matmul_bf16_f32", obj, [A_l1, B_l1, C_l1])

    a_l1 = [None] * ROWS
    b_l1 = [None] * cols
    c_l1 = [[None] * cols for _ in range(ROWS)]
    a_l3, b_l3, c_l3 = [], [], []
    for c in range(cols):
        fa = ObjectFifo(A_l2, name=f"A3_{c}", depth=depth)
        rows = range(c * a_per_shim, (c + 1) * a_per_shim)
        parts = fa.cons().split(
            [m * k * i for i in range(a_per_shim)],
            obj_types=[A_l1] * a_per_shim,
            names=[f"A1_{row}" for row in rows],
            dims_to_stream=[[(m // r, r * k), (k // s, s), (r, k), (s, 1)]] * a_per_shim,
            placement=Tile(c, 1),
        )
        for i, row in enumerate(rows):
            a_l1[row] = parts[i]
        a_l3.append(fa)

        fb = ObjectFifo(B_l2, name=f"B3_{c}", depth=depth)
        b_l1[c] = fb.cons().forward(
            obj_type=B_l1, name=f"B1_{c}",
            dims_to_stream=[(k // s, s * n), (n // t, t), (s, n), (t, 1)],
            placement=Tile(c, 1),
        )
        b_l3.append(fb)

        fc = ObjectFifo(C_l2, name=f"C3_{c}", depth=depth,
                        dims_to_stream=[(m // r, r * n), (r, t), (n // t, r * t), (t, 1)])
        joined = fc.prod().join(
            [m * n * i for i in range(ROWS)],
            obj_types=[C_l1] * ROWS,
            names=[f"C1_{c}_{row}" for row in range(ROWS)],
            depths=[depth] * ROWS,
            placement=Tile(c, 1),
        )
        for row in range(ROWS):
            c_l1[row][c] = joined[row]
        c_l3.append(fc)

    tiles_per_core = (M // m) * (N // n) // (ROWS * cols)

    def core(a, b, cc, zero, mm):
        for _ in range_(tiles_per_core) if tiles_per_core > 1 else range(1):
            out = cc.acquire(1)
            zero(out)
            for _ in range_(K // k):  # k-tiles in order: the reference's order
                ta, tb = a.acquire(1), b.acquire(1)
                mm(ta, tb, out)
                a.release(1)
                b.release(1)
            cc.release(1)

    workers = [
        Worker(core, [a_l1[row].cons(), b_l1[c].cons(), c_l1[row][c].prod(), k_zero, k_mm],
               placement=Tile(c, 2 + row))
        for row in range(ROWS) for c in range(cols)
    ]

    # DDR access patterns: each shim column c streams, per row block, the A
    # rows of its core rows (repeated for every B column tile it serves), the
    # B column tiles c, c+cols, … (all K), and drains the matching C tiles.
    n_row_blocks = M // (m * ROWS)
    a_taps = TensorTiler2D.group_tiler((M, K), (m * a_per_shim, k), (1, K // k),
                                       pattern_repeat=N // n // cols)
    b_taps = TensorTiler2D.step_tiler((K, N), (k, n), tile_group_repeats=(K // k, N // n // cols),
                                      tile_group_steps=(1, cols), tile_group_col_major=True)
    c_taps = TensorTiler2D.step_tiler((M, N), (m * ROWS, n), tile_group_repeats=(1, N // n // cols),
                                      tile_group_steps=(1, cols))

    rt = Runtime()
    with rt.sequence(A_ty, B_ty, C_ty) as (A, B, C):
        rt.start(*workers)
        for blk in range(n_row_blocks):
            tg = rt.task_group()
            for c in range(cols):
                rt.drain(c_l3[c].cons(), C, tap=c_taps[blk * cols + c], wait=True,
                         task_group=tg, placement=Tile(c, 0))
                rt.fill(a_l3[c].prod(), A, tap=a_taps[blk * cols + c], task_group=tg,
                        placement=Tile(c, 0))
                rt.fill(b_l3[c].prod(), B, tap=b_taps[c], task_group=tg, placement=Tile(c, 0))
            rt.finish_task_group(tg)  # bounds the buffer descriptors in flight

    return Program(dev, rt).resolve_program(SequentialPlacer())


def main():
    p = argparse.ArgumentParser(description="livecap bf16 x bf16 -> f32 GEMM (IRON)")
    p.add_argument("--dev", choices=["npu1", "npu2"], required=True)
    for name in ("M", "K", "N", "m", "k", "n", "cols", "r", "s", "t"):
        p.add_argument(f"--{name}", type=int, required=True)
    a = p.parse_args()
    print(design(a.dev, a.M, a.K, a.N, a.m, a.k, a.n, a.cols, a.r, a.s, a.t))


if __name__ == "__main__":
    main()
