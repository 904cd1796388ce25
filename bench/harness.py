"""Timing and reporting for deepcore's benchmarks: medians after warm-up,
ratios against NumPy (and PyTorch when installed) measured in the same run."""
import json
import os
import platform
import statistics
import subprocess
import time


def measure(fn, min_time=0.2, warmup=2, max_repeats=200, settle=0.15):
    """Median seconds of `fn()` over enough repeats to fill `min_time`.

    Waits `settle` seconds first: the library measured before may still have
    worker threads spinning for work (OpenMP, OpenBLAS), which would steal the
    cores from this one and bias the ratio toward whoever runs first."""
    time.sleep(settle)
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < 5 or (time.perf_counter() - start < min_time and len(times) < max_repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown CPU"


def cpu_mhz():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return float(line.split(":")[1])
    except OSError:
        pass
    return None


def peak_gflops(threads, capability, override=None):
    """float32 FMA peak estimate: cores x clock x FLOP/cycle (2 FMA pipes x vector width x 2).
    AMD Zen 4 runs AVX-512 on 256-bit pipes, so it gets the AVX2 figure."""
    if override:
        return override
    mhz = cpu_mhz()
    if not mhz:
        return None
    wide = capability == "avx512" and "AMD" not in cpu_name()
    per_cycle = 64 if wide else 32 if capability in ("avx2", "avx512") else 8
    return threads * mhz / 1000.0 * per_cycle


class Report:
    """The table of results. With several rounds (the whole suite run again),
    each row keeps every round's times; `finish` prints median times and the
    median of the per-round ratios, which a shared, noisy machine skews less."""

    def __init__(self, threads, peak, has_torch):
        self.rows = []
        self.threads = threads
        self.peak = peak
        self.has_torch = has_torch
        self._rounds = {}  # (op, shape) -> list of (flops, t_deepcore, t_numpy, t_torch)

    def _row(self, op, shape, flops, t_deepcore, t_numpy, t_torch):
        row = {"op": op, "shape": shape, "deepcore_ms": t_deepcore * 1e3,
               "numpy_ms": t_numpy * 1e3 if t_numpy else None,
               "torch_ms": t_torch * 1e3 if t_torch else None,
               # speedup > 1 means deepcore is faster
               "vs_numpy": (t_numpy / t_deepcore) if t_numpy else None,
               "vs_torch": (t_torch / t_deepcore) if t_torch else None,
               "gflops": flops / t_deepcore / 1e9 if flops else None}
        row["pct_peak"] = 100 * row["gflops"] / self.peak if (row["gflops"] and self.peak) else None
        return row

    def add(self, op, shape, flops, t_deepcore, t_numpy=None, t_torch=None):
        self._rounds.setdefault((op, shape), []).append((flops, t_deepcore, t_numpy, t_torch))
        row = self._row(op, shape, flops, t_deepcore, t_numpy, t_torch)
        self.rows.append(row)
        print(self._line(row), flush=True)

    def finish(self):
        """Replaces the rows by one per case: median times, median of the per-round ratios."""
        if all(len(v) == 1 for v in self._rounds.values()):
            return
        rounds = max(len(v) for v in self._rounds.values())
        print(f"\nmedians over {rounds} rounds (ratios: median of each round's ratio)")
        self.header()
        self.rows = []
        for (op, shape), runs in self._rounds.items():
            med = [statistics.median(t for t in col if t is not None) if any(t is not None for t in col) else None
                   for col in zip(*[r[1:] for r in runs])]
            row = self._row(op, shape, runs[0][0], *med)
            for key, col in (("vs_numpy", 2), ("vs_torch", 3)):
                ratios = [r[col] / r[1] for r in runs if r[col]]
                row[key] = statistics.median(ratios) if ratios else None
            row["rounds"] = len(runs)
            self.rows.append(row)
            print(self._line(row), flush=True)

    def header(self):
        cols = f"{'op':<26}{'shape':<26}{'deepcore ms':>12}{'numpy ms':>10}{'x numpy':>9}"
        if self.has_torch:
            cols += f"{'torch ms':>10}{'x torch':>9}"
        cols += f"{'GFLOP/s':>9}{'%peak*':>8}"
        print(cols)
        print("-" * len(cols))

    def _line(self, r):
        def f(v, w, p=3):
            return f"{v:>{w}.{p}f}" if v is not None else f"{'-':>{w}}"
        s = f"{r['op']:<26}{r['shape']:<26}{f(r['deepcore_ms'], 12)}{f(r['numpy_ms'], 10)}{f(r['vs_numpy'], 9, 2)}"
        if self.has_torch:
            s += f"{f(r['torch_ms'], 10)}{f(r['vs_torch'], 9, 2)}"
        return s + f"{f(r['gflops'], 9, 1)}{f(r['pct_peak'], 8, 0)}"

    def markdown(self, meta):
        """The rows as a Markdown table, headed by the machine they were measured on."""
        def f(v, p):
            return f"{v:.{p}f}" if v is not None else "-"
        lines = [f"CPU: {meta['cpu']}, {meta['threads']} threads, deepcore {meta['capability']} "
                 f"({meta['gemm_kernel']}), numpy {meta['numpy']}, torch {meta['torch'] or 'not installed'}"
                 + (f", medians of {meta['rounds']} rounds" if meta.get("rounds", 1) > 1 else ""), "",
                 "| op | shape | deepcore ms | numpy ms | x numpy | torch ms | x torch | GFLOP/s |",
                 "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in self.rows:
            lines.append(f"| {r['op']} | {r['shape']} | {f(r['deepcore_ms'], 3)} | {f(r['numpy_ms'], 3)} | "
                         f"{f(r['vs_numpy'], 2)} | {f(r['torch_ms'], 3)} | {f(r['vs_torch'], 2)} | "
                         f"{f(r['gflops'], 1)} |")
        return "\n".join(lines) + "\n"

    def save(self, path, meta):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump({"meta": meta, "rows": self.rows}, f, indent=1)
        print(f"\nwrote {path}")
