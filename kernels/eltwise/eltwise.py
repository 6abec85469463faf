#!/usr/bin/env python3
# eltwise.py: IRON design for the softmax / GELU kernels (softmax_gelu_bf16.cc)
# on one core: ROWS rows of ROW_LEN bf16 values stream in, are processed one
# row at a time, and stream out. For validation against bf16ref_softmax /
# bf16ref_gelu on silicon; not routed by livecap's backend yet. UNTESTED.
import argparse
import sys

import numpy as np
from ml_dtypes import bfloat16

try:
    from aie.iron import Kernel, ObjectFifo, Program, Runtime, Worker
    from aie.iron.placers import SequentialPlacer
    from aie.iron.device import NPU1Col1, NPU2Col1
    from aie.iron.controlflow import range_
except ImportError:  # pragma: no cover
    sys.exit("eltwise.py: this mlir-aie has no aie.iron API (need a 2025 release)")


def design(dev_name, op, rows, row_len):
    dev = NPU1Col1() if dev_name == "npu1" else NPU2Col1()
    row_ty = np.ndarray[(row_len,), np.dtype[bfloat16]]
    tmp_ty = np.ndarray[(row_len,), np.dtype[np.float32]]
    all_ty = np.ndarray[(rows * row_len,), np.dtype[bfloat16]]
    obj = f"softmax_gelu_{row_len}.o"
    if op == "softmax":
        kern = Kernel("softmax_bf16", obj, [row_ty, row_ty, tmp_ty])
    else:
        kern = Kernel("gelu_bf16", obj, [row_ty, row_ty])
    fin = ObjectFifo(row_ty, name="x", depth=2)
    fout = ObjectFifo(row_ty, name="y", depth=2)

    def core(i, o, k):
        from aie.iron import LocalBuffer  # per-core f32 scratch for softmax
        tmp = LocalBuffer(tmp_ty, name="tmp") if op == "softmax" else None
        for _ in range_(rows):
            x, y = i.acquire(1), o.acquire(1)
            if tmp is not None:
                k(x, y, tmp)
            else:
                k(x, y)
            i.release(1)
            o.release(1)

    w = Worker(core, [fin.cons(), fout.prod(), kern])
    rt = Runtime()
    with rt.sequence(all_ty, all_ty) as (X, Y):
        rt.start(w)
        rt.fill(fin.prod(), X)
        rt.drain(fout.cons(), Y, wait=True)
    return Program(dev, rt).resolve_program(SequentialPlacer())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dev", choices=["npu1", "npu2"], required=True)
    p.add_argument("--op", choices=["softmax", "gelu"], required=True)
    p.add_argument("--rows", type=int, default=64)
    p.add_argument("--row-len", type=int, default=1500)
    a = p.parse_args()
    print(design(a.dev, a.op, a.rows, a.row_len))


if __name__ == "__main__":
    main()
