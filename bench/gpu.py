"""GPU rows (issue 14): deepcore's CUDA kernels against PyTorch (cuBLAS / cuDNN) on the same GPU, in
the same run. Needs a CUDA device and a CUDA build of torch; bench/gpu_check.sh runs it on a lent
machine after the build and the tests.

    python bench/gpu.py [--quick]

Rows: SGEMM float32 (no tensor cores on either side: torch's TF32 is switched off) at 1024-8192;
the lecture CNN's layers (conv 1->32, conv 32->64 at batch 128, forward and backward); a full
training epoch of the lecture's Keras-style MLP and CNN (PyTorch spelling, 469 steps of 128), with
time and peak GPU memory. An op deepcore has no CUDA kernel for yet prints its row as
'not on CUDA yet' instead of a time. Times are medians after warm-up, synchronized on both sides.
"""
import argparse
import statistics
import sys
import time

import numpy as np


def _timed(fn, sync, repeats=10, warmup=3):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _row(name, shape, t_dc, t_th, flops=None):
    if t_dc is None:
        print(f"{name:<22}{shape:<26}{'not on CUDA yet':>16}{t_th * 1e3:>12.3f}", flush=True)
        return
    rate = f"{flops / t_dc / 1e12:>9.2f}" if flops else f"{'-':>9}"
    print(f"{name:<22}{shape:<26}{t_dc * 1e3:>16.3f}{t_th * 1e3:>12.3f}{t_th / t_dc:>9.2f}{rate}", flush=True)


def _try(fn):
    try:
        return fn()
    except NotImplementedError as e:
        print(f"  ({e})", file=sys.stderr)
        return None


def sgemm(dc, torch, sizes):
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 against float32: no tensor cores
    rng = np.random.default_rng(0)
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        da, db = dc.tensor(a, device="cuda"), dc.tensor(b, device="cuda")
        ta, tb = torch.tensor(a, device="cuda"), torch.tensor(b, device="cuda")
        t_th = _timed(lambda: ta @ tb, torch.cuda.synchronize)
        t_dc = _try(lambda: _timed(lambda: da @ db, dc.cuda.synchronize))
        if t_dc is not None:  # the same answer, to float32 accuracy
            err = float(np.abs((da @ db).cpu().numpy() - (ta @ tb).cpu().numpy()).max())
            print(f"  sgemm {n}: max |deepcore - cuBLAS| = {err:.2e}")
        _row("sgemm", f"{n}x{n}x{n}", t_dc, t_th, 2.0 * n ** 3)


def cnn_layers(dc, torch):
    for name, cin, cout, size in (("conv 1->32", 1, 32, 28), ("conv 32->64", 32, 64, 26)):
        x = np.random.default_rng(1).standard_normal((128, cin, size, size), dtype=np.float32)
        dconv, tconv = dc.nn.Conv2d(cin, cout, 3).to("cuda"), torch.nn.Conv2d(cin, cout, 3).to("cuda")
        dx = dc.tensor(x, device="cuda", requires_grad=True)
        tx = torch.tensor(x, device="cuda", requires_grad=True)
        t_th = _timed(lambda: tconv(tx).sum().backward(), torch.cuda.synchronize)
        t_dc = _try(lambda: _timed(lambda: dconv(dx).sum().backward(), dc.cuda.synchronize))
        flops = 3 * 2.0 * 128 * cout * (size - 2) ** 2 * cin * 9
        _row(name + " f+b", f"128x{cin}x{size}x{size}", t_dc, t_th, flops)


def _mlp(nn):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 512),
                         nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))


def _cnn(nn):
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(128, 10))


def _epoch(lib, kind, x, y, sync, steps):
    model = (_mlp if kind == "mlp" else _cnn)(lib.nn).to("cuda")
    opt = (lib.optim.RMSprop(model.parameters(), lr=0.001, alpha=0.9, eps=1e-7) if kind == "mlp" else
           lib.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-7))
    loss_fn = lib.nn.functional.cross_entropy

    def run(n):
        for i in range(n):
            xb, yb = x[i * 128:(i + 1) * 128], y[i * 128:(i + 1) * 128]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        return loss
    run(3)  # warm-up: kernels loaded, allocator filled
    sync()
    t0 = time.perf_counter()
    loss = run(steps)
    sync()
    return time.perf_counter() - t0, float(loss.item())


def epochs(dc, torch, steps):
    from deepcore.data.datasets import mnist_arrays
    xtr, ytr = mnist_arrays(True)
    x = (xtr.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    y = ytr.astype(np.int64)
    dx, dy = dc.tensor(x, device="cuda"), dc.tensor(y, device="cuda")
    tx, ty = torch.tensor(x, device="cuda"), torch.tensor(y, device="cuda")
    for kind in ("mlp", "cnn"):
        torch.cuda.reset_peak_memory_stats()
        t_th, l_th = _epoch(torch, kind, tx, ty, torch.cuda.synchronize, steps)
        peak_th = torch.cuda.max_memory_allocated() / 2 ** 20
        got = _try(lambda: _epoch(dc, kind, dx, dy, dc.cuda.synchronize, steps))
        peak = getattr(dc.cuda, "max_memory_allocated", None)
        peak_dc = f"{peak() / 2 ** 20:.0f} MiB" if (got and peak) else "-"
        if got is None:
            print(f"{kind} epoch ({steps} steps): deepcore not on CUDA yet | torch {t_th:.2f} s, {peak_th:.0f} MiB")
        else:
            print(f"{kind} epoch ({steps} steps): deepcore {got[0]:.2f} s (loss {got[1]:.3f}, peak {peak_dc}) | "
                  f"torch {t_th:.2f} s (loss {l_th:.3f}, peak {peak_th:.0f} MiB) | x torch {t_th / got[0]:.2f}",
                  flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="SGEMM to 4096, 100 training steps")
    args = p.parse_args()
    import torch

    import deepcore as dc
    if not dc.cuda.is_available() or not torch.cuda.is_available():
        raise SystemExit(f"bench/gpu.py needs a CUDA device for both (deepcore: {dc.cuda.is_available()}, "
                         f"torch: {torch.cuda.is_available()})")
    print(f"GPU: {dc.cuda.get_device_name(0)} | torch {torch.__version__} (cuBLAS/cuDNN) | "
          f"ratios: torch's time / deepcore's (> 1: deepcore faster)")
    print(f"{'op':<22}{'shape':<26}{'deepcore ms':>16}{'torch ms':>12}{'x torch':>9}{'TFLOP/s':>9}")
    sgemm(dc, torch, [1024, 2048, 4096] if args.quick else [1024, 2048, 4096, 8192])
    cnn_layers(dc, torch)
    epochs(dc, torch, 100 if args.quick else 469)


if __name__ == "__main__":
    main()
