"""Multi-step forecasting with an LSTM (deepcore.nn.LSTM, PyTorch style) on a generated noisy
periodic signal, against the two naive forecasts every forecaster must beat.

The data is synthetic and named as such (`noisy_periodic_signal`): a period-24 sine, a weaker
period-84 sine (so that copying the last period is not already perfect), and Gaussian noise.
The model reads the last --context values and predicts the next --horizon at once (a "direct"
multi-output forecast: LSTM over the window -> Linear(hidden, horizon)).

Printed on the held-out tail of the series (the last --test-fraction, never seen in training):
the RMSE and MAE of the LSTM, of the last-value forecast (repeat the last observed value) and of
the seasonal-naive forecast (repeat the last observed period of 24), and the noise floor (the
noise's standard deviation: no forecast can beat it on average).
Writes, next to this script or into $DEEPCORE_FIGURE_DIR:
  time_series_forecast.png  forecast vs truth on three test windows, and the RMSE per horizon step
"""
import argparse
import math
import os
import sys
import time

import numpy as np

import deepcore
import deepcore.nn as nn
import deepcore.nn.functional as F
import deepcore.optim as optim

PERIOD = 24  # the main period of the generated signal, also the seasonal-naive season


def noisy_periodic_signal(length, noise_std=0.2, seed=0):
    """The generated series (float64, (length,)): sin(2 pi t / 24) + 0.5 sin(2 pi t / 84 + 1) + noise."""
    t = np.arange(length, dtype=np.float64)
    clean = np.sin(2 * np.pi * t / PERIOD) + 0.5 * np.sin(2 * np.pi * t / 84.0 + 1.0)
    return clean + np.random.default_rng(seed).normal(0.0, noise_std, size=length)


def windows(series, context, horizon):
    """All (past, future) pairs of a series: past (n, context), future (n, horizon), stride 1."""
    if len(series) < context + horizon:
        raise ValueError(f"a series of {len(series)} values has no window of context {context} + horizon {horizon}")
    starts = np.arange(len(series) - context - horizon + 1)
    past = series[starts[:, None] + np.arange(context)]
    future = series[starts[:, None] + context + np.arange(horizon)]
    return past, future


def last_value_forecast(past, horizon):
    """Every future step equals the last observed value."""
    return np.repeat(past[:, -1:], horizon, axis=1)


def seasonal_naive_forecast(past, horizon, season=PERIOD):
    """Future step h equals the value one season before it (the last observed season, repeated)."""
    if past.shape[1] < season:
        raise ValueError(f"seasonal naive needs a context of at least one season ({season}), got {past.shape[1]}")
    last_season = past[:, -season:]
    return last_season[:, np.arange(horizon) % season]


def rmse(forecast, truth):
    return float(np.sqrt(np.mean((forecast - truth) ** 2)))


def mae(forecast, truth):
    return float(np.mean(np.abs(forecast - truth)))


class Forecaster(nn.Module):
    """past (N, context) -> future (N, horizon): an LSTM over the window, its last hidden state mapped
    to all horizon steps by one Linear layer."""

    def __init__(self, horizon, hidden_size=32, num_layers=1):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, horizon)

    def forward(self, past):
        output, _ = self.lstm(past.unsqueeze(-1))  # (N, context, hidden)
        return self.head(output[:, -1])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--length", type=int, default=4000, help="values in the generated series")
    p.add_argument("--noise-std", type=float, default=0.2)
    p.add_argument("--context", type=int, default=48, help="past values the model reads (two periods)")
    p.add_argument("--horizon", type=int, default=24, help="future values it predicts (one period)")
    p.add_argument("--test-fraction", type=float, default=0.25, help="the held-out tail of the series")
    p.add_argument("--hidden-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=1500, help="Adam steps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--log-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    if not 0.0 < args.test_fraction < 1.0:
        p.error(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
    for name in ("length", "context", "horizon", "hidden_size", "steps", "batch_size", "log_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args


def plot(past, future, forecast, seasonal, horizon_rmse, baseline_rmse):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import headless_pyplot as plt  # Agg without a display

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
    context, horizon = past.shape[1], future.shape[1]
    for ax, i in zip(axes[:3], np.linspace(0, len(past) - 1, 3).astype(int)):
        ax.plot(np.arange(context), past[i], color="0.4", label="observed")
        steps = np.arange(context, context + horizon)
        ax.plot(steps, future[i], color="black", label="truth")
        ax.plot(steps, forecast[i], color="tab:red", label="LSTM")
        ax.plot(steps, seasonal[i], color="tab:green", linestyle="--", label="seasonal naive")
        ax.axvline(context - 0.5, color="0.7", linewidth=0.8)
        ax.set_title(f"test window {i}")
        ax.set_xlabel("time step")
    axes[0].legend(fontsize=8, loc="lower left")
    h = np.arange(1, len(horizon_rmse) + 1)
    axes[3].plot(h, horizon_rmse, color="tab:red", marker=".", label="LSTM")
    for (name, values), color in zip(baseline_rmse.items(), ("tab:blue", "tab:green")):
        axes[3].plot(h, values, color=color, marker=".", label=name)
    axes[3].set_xlabel("steps ahead")
    axes[3].set_ylabel("test RMSE")
    axes[3].set_title("error per horizon step")
    axes[3].legend(fontsize=8)
    fig.suptitle("generated noisy periodic signal: LSTM forecast vs truth (held-out tail)")
    fig.tight_layout()
    path = plt.figure_path("time_series_forecast.png")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"saved {path}")


def main(argv=None):
    args = parse_args(argv)
    deepcore.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.context < PERIOD:
        raise SystemExit(f"--context must cover one period ({PERIOD}) for the seasonal-naive baseline")

    series = noisy_periodic_signal(args.length, args.noise_std, args.seed)
    split = int(round(args.length * (1.0 - args.test_fraction)))
    # Scale by the training part's statistics only: the test tail must not leak into training.
    mean, std = series[:split].mean(), series[:split].std()
    scaled = ((series - mean) / std).astype(np.float32)
    train_past, train_future = windows(scaled[:split], args.context, args.horizon)
    test_past, test_future = windows(scaled[split - args.context:], args.context, args.horizon)
    print(f"generated noisy periodic signal: {args.length} values (noise std {args.noise_std}); "
          f"{len(train_past)} training windows, {len(test_past)} test windows; context {args.context}, "
          f"horizon {args.horizon}", flush=True)

    model = Forecaster(args.horizon, args.hidden_size)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    start = time.perf_counter()
    running = []
    for step in range(1, args.steps + 1):
        rows = rng.integers(0, len(train_past), size=args.batch_size)  # a random minibatch of windows
        loss = F.mse_loss(model(deepcore.from_numpy(train_past[rows])), deepcore.from_numpy(train_future[rows]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running.append(loss.item())
        if not math.isfinite(running[-1]):
            raise FloatingPointError(f"step {step}: training loss {running[-1]}")
        if step % args.log_every == 0 or step == args.steps:
            print(f"step {step:5d}/{args.steps}  train MSE (scaled) {np.mean(running):.4f}  "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
            running = []

    model.eval()
    with deepcore.no_grad():
        forecast = model(deepcore.from_numpy(test_past)).numpy().astype(np.float64)
    # Errors in the signal's own units, so that the noise floor (noise_std) is comparable.
    unscale = lambda a: np.asarray(a, dtype=np.float64) * std + mean  # noqa: E731
    truth, past = unscale(test_future), unscale(test_past)
    forecasts = {"LSTM": unscale(forecast), "last value": last_value_forecast(past, args.horizon),
                 "seasonal naive": seasonal_naive_forecast(past, args.horizon)}
    print(f"test forecast error over {len(truth)} windows x {args.horizon} steps (noise floor: RMSE "
          f"{args.noise_std:.4f}, MAE {args.noise_std * math.sqrt(2 / math.pi):.4f}):")
    for name, values in forecasts.items():
        print(f"  {name:15s} RMSE {rmse(values, truth):.4f}  MAE {mae(values, truth):.4f}")
    ratio = rmse(forecasts["LSTM"], truth) / rmse(forecasts["seasonal naive"], truth)
    print(f"LSTM RMSE / seasonal-naive RMSE: {ratio:.3f}; {time.perf_counter() - start:.1f} s", flush=True)

    if not args.no_plot:
        per_step = lambda f: np.sqrt(np.mean((f - truth) ** 2, axis=0))  # noqa: E731
        plot(past, truth, forecasts["LSTM"], forecasts["seasonal naive"], per_step(forecasts["LSTM"]),
             {name: per_step(forecasts[name]) for name in ("last value", "seasonal naive")})
    return {name: rmse(values, truth) for name, values in forecasts.items()}


if __name__ == "__main__":
    main()
