"""deepcore vs NumPy (and PyTorch when installed), one run, one table.

    python bench/run.py [--quick] [--threads N] [--json bench/results.json] [--only matmul]

Ratios are speedups (other library's time / deepcore's time, > 1 = deepcore
faster), measured in the same process with the same thread count.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Report, cpu_name, measure, peak_gflops  # noqa: E402
from cnn import bench_cnn  # noqa: E402

import deepcore  # noqa: E402
import deepcore.nn.functional as F  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def matmul_cases(quick):
    sizes = [256, 512, 1024] if quick else [256, 512, 1024, 2048]
    for n in sizes:
        yield "matmul", (n, n), (n, n), False, False
    # The lecture's MLP (batch 128) with a Keras kernel W (in x out): forward X @ W,
    # grad_input = g @ W^T, grad_W = X^T @ g; torch stores W as (out x in) and
    # computes its gradient as g^T @ X.
    for k, n in ((784, 512), (512, 512), (512, 10)):
        yield "mlp forward", (128, k), (k, n), False, False
        yield "mlp grad_input", (128, n), (k, n), False, True
        yield "mlp grad_weight", (128, k), (128, n), True, False
        yield "mlp grad_weight (torch)", (128, n), (128, k), True, False


def bench_matmul(report, quick, rng):
    for name, sa, sb, ta, tb in matmul_cases(quick):
        a = rng.standard_normal(sa).astype(np.float32)
        b = rng.standard_normal(sb).astype(np.float32)
        an, bn = (a.T if ta else a), (b.T if tb else b)   # transposed views, no copies
        da, db = deepcore.from_numpy(a), deepcore.from_numpy(b)
        da, db = (da.T if ta else da), (db.T if tb else db)
        m, k = an.shape
        n = bn.shape[1]
        t_dc = measure(lambda: da @ db)
        t_np = measure(lambda: an @ bn)
        t_th = None
        if torch is not None:
            tta, ttb = torch.from_numpy(a), torch.from_numpy(b)
            tta, ttb = (tta.T if ta else tta), (ttb.T if tb else ttb)
            t_th = measure(lambda: tta @ ttb)
        shape = f"({m}x{k}){'^T' if ta else ''}@({k}x{n}){'^T' if tb else ''}"
        report.add(name, shape, 2.0 * m * n * k, t_dc, t_np, t_th)


def bench_elementwise(report, quick, rng):
    n = 1 << 20
    x = rng.standard_normal(n).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    dx, dy = deepcore.from_numpy(x), deepcore.from_numpy(y)
    tx, ty = (torch.from_numpy(x), torch.from_numpy(y)) if torch is not None else (None, None)
    g = rng.standard_normal(n).astype(np.float32)
    y_tanh, y_sig = np.tanh(x), (1 / (1 + np.exp(-x))).astype(np.float32)
    dg, dyt, dys = deepcore.from_numpy(g), deepcore.from_numpy(y_tanh), deepcore.from_numpy(y_sig)
    kern = dx._backend  # backward kernels are timed directly, as autograd calls them
    if torch is not None:
        tg, tyt, tys = torch.from_numpy(g), torch.from_numpy(y_tanh), torch.from_numpy(y_sig)
        aten = torch.ops.aten
    cases = [
        ("add", lambda: dx + dy, lambda: x + y, lambda: tx + ty),
        ("mul scalar", lambda: dx * 0.5, lambda: x * np.float32(0.5), lambda: tx * 0.5),
        ("relu", lambda: dx.relu(), lambda: np.maximum(x, 0), lambda: tx.relu()),
        ("relu backward", lambda: kern.leaky_relu_backward(dg._data, dx._data, 0.0),
         lambda: np.where(x > 0, g, np.float32(0)), lambda: aten.threshold_backward(tg, tx, 0)),
        ("exp", lambda: dx.exp(), lambda: np.exp(x), lambda: tx.exp()),
        ("tanh", lambda: dx.tanh(), lambda: np.tanh(x), lambda: tx.tanh()),
        ("tanh backward", lambda: kern.tanh_backward(dg._data, dyt._data),
         lambda: g * (1 - y_tanh * y_tanh), lambda: aten.tanh_backward(tg, tyt)),
        ("sigmoid", lambda: dx.sigmoid(), lambda: 1 / (1 + np.exp(-x)), lambda: tx.sigmoid()),
        ("sigmoid backward", lambda: kern.sigmoid_backward(dg._data, dys._data),
         lambda: g * y_sig * (1 - y_sig), lambda: aten.sigmoid_backward(tg, tys)),
        ("sum", lambda: dx.sum(), lambda: x.sum(), lambda: tx.sum()),
    ]
    for name, f_dc, f_np, f_th in cases:
        report.add(name, f"({n},)", None, measure(f_dc), measure(f_np), measure(f_th) if torch is not None else None)
    for rows, cols in ((128, 10), (128, 1000)):
        logits = rng.standard_normal((rows, cols)).astype(np.float32)
        dl = deepcore.from_numpy(logits)
        tl = torch.from_numpy(logits) if torch is not None else None

        def np_log_softmax(logits=logits):
            m = logits.max(1, keepdims=True)
            return logits - m - np.log(np.exp(logits - m).sum(1, keepdims=True))

        def np_softmax(logits=logits):
            e = np.exp(logits - logits.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)

        report.add("softmax", f"({rows}, {cols})", None, measure(lambda: dl.softmax(1)), measure(np_softmax),
                   measure(lambda: tl.softmax(1)) if torch is not None else None)
        report.add("log_softmax", f"({rows}, {cols})", None, measure(lambda: dl.log_softmax(1)),
                   measure(np_log_softmax), measure(lambda: tl.log_softmax(1)) if torch is not None else None)
    # An auto-encoder's batch: binary cross-entropy on probabilities, and dropout (the lecture's MLP).
    p = rng.uniform(0.01, 0.99, (256, 784)).astype(np.float32)
    t = rng.uniform(0, 1, (256, 784)).astype(np.float32)
    dp, dt = deepcore.from_numpy(p), deepcore.from_numpy(t)
    tp, tt = (torch.from_numpy(p), torch.from_numpy(t)) if torch is not None else (None, None)
    report.add("binary_cross_entropy", "(256, 784)", None, measure(lambda: F.binary_cross_entropy(dp, dt)),
               measure(lambda: -(t * np.log(p) + (1 - t) * np.log1p(-p)).mean()),
               measure(lambda: torch.nn.functional.binary_cross_entropy(tp, tt)) if torch is not None else None)
    h = rng.standard_normal((128, 512)).astype(np.float32)
    dh = deepcore.from_numpy(h)
    th = torch.from_numpy(h) if torch is not None else None
    report.add("dropout p=0.2", "(128, 512)", None, measure(lambda: F.dropout(dh, 0.2, True)),
               measure(lambda: h * (np.random.random_sample(h.shape) >= 0.2) * np.float32(1.25)),
               measure(lambda: torch.nn.functional.dropout(th, 0.2, True)) if torch is not None else None)


def bench_autograd_step(report, rng):
    """The lecture's autograd listing: one forward + backward + update (per-op overhead)."""
    def step_fn(lib):
        x, y = lib.randn(64, 3), lib.randn(64, 2)
        w1, w2 = lib.randn(3, 4, requires_grad=True), lib.randn(4, 2, requires_grad=True)

        def step():
            loss = (x.mm(w1).tanh().mm(w2) - y).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                w1.sub_(1e-5 * w1.grad)
                w2.sub_(1e-5 * w2.grad)
                w1.grad.zero_()
                w2.grad.zero_()
        return step

    report.add("autograd listing step", "N=64 3-4-2", None, measure(step_fn(deepcore)), None,
               measure(step_fn(torch)) if torch is not None else None)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer, smaller cases")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--json", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results.json"))
    p.add_argument("--only", choices=["matmul", "elementwise", "autograd", "cnn"], default=None)
    p.add_argument("--peak-gflops", type=float, default=None, help="override the estimated float32 peak")
    p.add_argument("--markdown", default=None, help="also write the table as Markdown to this file")
    p.add_argument("--rounds", type=int, default=1,
                   help="run the suite this many times and report medians (steadier on a shared machine)")
    args = p.parse_args()

    deepcore.set_num_threads(args.threads)
    if torch is not None:
        torch.set_num_threads(args.threads)
    cap = deepcore.backends.cpu.capability
    peak = peak_gflops(args.threads, cap, args.peak_gflops)
    print(f"CPU: {cpu_name()} | threads: {args.threads} | deepcore {deepcore.__version__} "
          f"({cap}, gemm {deepcore.backends.cpu.gemm_kernel}) | numpy {np.__version__}"
          + (f" | torch {torch.__version__}" if torch is not None else " | torch not installed")
          + (f" | *peak est. {peak:.0f} GFLOP/s from the base clock (turbo runs higher; "
             f"--peak-gflops overrides)" if peak else ""))
    print("ratios: x numpy / x torch = their time / deepcore's time (> 1: deepcore faster)\n")
    report = Report(args.threads, peak, torch is not None)
    report.header()
    for _ in range(max(1, args.rounds)):
        rng = np.random.default_rng(0)
        if args.only in (None, "matmul"):
            bench_matmul(report, args.quick, rng)
        if args.only in (None, "elementwise"):
            bench_elementwise(report, args.quick, rng)
        if args.only in (None, "autograd"):
            bench_autograd_step(report, rng)
        if args.only in (None, "cnn"):
            bench_cnn(report, args.quick, rng)
    report.finish()
    meta = {"rounds": max(1, args.rounds), "cpu": cpu_name(), "threads": args.threads, "capability": cap,
            "gemm_kernel": deepcore.backends.cpu.gemm_kernel, "numpy": np.__version__,
            "torch": torch.__version__ if torch is not None else None, "peak_gflops": peak}
    report.save(args.json, meta)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report.markdown(meta))
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
