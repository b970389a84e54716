"""Forward + backward of K stacked dense layers, three ways, interleaved, medians: why the vectorized
trainer multiplies large dense layers weight-first and leaves huge ones to the engine on a CPU.

    .venv/bin/python benchmarks/stacked_dense.py [--threads 2]

- one by one: K separate `F.linear` calls on K leaf weights (what the engine does, trial by trial);
- x W^T:      `torch.bmm(x, W.transpose(1, 2))` on a (K, out, in) weight; its gradient comes out as
              (K, in, out) and is copied, transposed, into W's layout;
- W x^T:      `torch.bmm(W, x.transpose(1, 2)).transpose(1, 2)`: the gradient is born in W's layout.

Shapes: notebook 001's first dense layer (300 x 25,088, batch 32), a 512 x 4,096 layer, the sizes around
the 65,536-weight switch (`hyperlab.vectorized.layers.WEIGHT_FIRST_FROM`) and the notebook-000 MLP's tiny
layers. Not a test: nothing asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

SHAPES = [(7, 32, 25088, 300), (8, 32, 4096, 512), (8, 256, 512, 512), (8, 256, 1250, 100),
          (7, 32, 300, 300), (16, 256, 128, 128), (8, 256, 64, 32)]


def sides(k: int, batch: int, width: int, out: int) -> dict:
    xs = [torch.randn(batch, width, requires_grad=True) for _ in range(k)]
    ws = [torch.randn(out, width, requires_grad=True) for _ in range(k)]
    x = torch.randn(k, batch, width, requires_grad=True)
    w = torch.randn(k, out, width, requires_grad=True)
    g1, g = torch.randn(batch, out), torch.randn(k, batch, out)

    def one_by_one() -> None:
        for xi, wi in zip(xs, ws, strict=True):
            xi.grad = wi.grad = None
            F.linear(xi, wi).backward(g1)

    def x_wt() -> None:
        x.grad = w.grad = None
        torch.bmm(x, w.transpose(1, 2)).backward(g)

    def w_xt() -> None:
        x.grad = w.grad = None
        torch.bmm(w, x.transpose(1, 2)).transpose(1, 2).backward(g)

    return {"one by one": one_by_one, "x W^T": x_wt, "W x^T": w_xt}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads; ms per forward + backward, median of "
          f"{args.rounds} interleaved rounds")
    print(f"{'K, batch, in, out':<24}{'one by one':>12}{'x W^T':>10}{'W x^T':>10}")
    for shape in SHAPES:
        fns = sides(*shape)
        for fn in fns.values():  # warm up
            fn()
        times: dict[str, list[float]] = {name: [] for name in fns}
        repeats = 3 if shape[2] * shape[3] > 1_000_000 else 20
        for _ in range(args.rounds):
            for name, fn in fns.items():
                start = time.perf_counter()
                for _ in range(repeats):
                    fn()
                times[name].append((time.perf_counter() - start) / repeats * 1e3)
        row = "".join(f"{statistics.median(times[name]):>{w}.2f}"
                      for name, w in (("one by one", 12), ("x W^T", 10), ("W x^T", 10)))
        print(f"{', '.join(map(str, shape)):<24}{row}")


if __name__ == "__main__":
    main()
