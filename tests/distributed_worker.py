"""Run by tests/test_distributed.py under `mpirun -n 2`: one case per invocation, each rank prints
what the test checks as `RESULT <rank> <json>` lines."""
import json
import sys

import numpy as np

import deepcore
import deepcore.distributed as dist


def emit(**values):
    print("RESULT", dist.get_rank(), json.dumps(values), flush=True)


def collectives():
    r, n = dist.get_rank(), dist.get_world_size()
    t = deepcore.tensor([1.0, 2.0, 3.0]) * (r + 1)
    dist.all_reduce(t)
    avg = deepcore.tensor([float(r)], dtype=deepcore.float64)
    dist.all_reduce(avg, op=dist.ReduceOp.AVG)
    mx = deepcore.tensor([r * 10, -r], dtype=deepcore.int64)
    dist.all_reduce(mx, op=dist.ReduceOp.MAX)
    b = deepcore.full((2, 2), float(r + 7))
    dist.broadcast(b, src=1)
    gathered = [deepcore.zeros(2) for _ in range(n)]
    dist.all_gather(gathered, deepcore.tensor([r, r + 0.5]))
    out = deepcore.zeros(2)
    dist.reduce_scatter(out, [deepcore.full((2,), float(r + i)) for i in range(n)])
    work = dist.all_reduce(deepcore.ones(4), async_op=True)
    done = work.wait()
    dist.barrier()
    emit(sum=t.tolist(), avg=avg.tolist(), max=mx.tolist(), bcast=b.tolist(),
         gathered=[g.tolist() for g in gathered], scattered=out.tolist(), waited=bool(done))


def _model():
    deepcore.manual_seed(0)
    return deepcore.nn.Sequential(deepcore.nn.Linear(6, 5), deepcore.nn.Tanh(), deepcore.nn.Linear(5, 3),
                                  deepcore.nn.Linear(3, 2))


def ddp():
    r, n = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 6)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    model = _model()
    if r == 1:  # a different start on rank 1: the wrap must broadcast rank 0's weights
        with deepcore.no_grad():
            for p in model.parameters():
                p.add_(1.0)
    # a tiny bucket cap: several buckets, each reduced as soon as its gradients are ready
    ddp_model = deepcore.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    shard = slice(r * 8 // n, (r + 1) * 8 // n)
    loss = deepcore.nn.functional.mse_loss(ddp_model(deepcore.tensor(x[shard])), deepcore.tensor(y[shard]))
    loss.backward()
    reference = _model()  # one process, the whole batch
    deepcore.nn.functional.mse_loss(reference(deepcore.tensor(x)), deepcore.tensor(y)).backward()
    diff = max(float((p.grad - q.grad).abs().max()) for p, q in zip(model.parameters(), reference.parameters()))
    opt = deepcore.optim.SGD(ddp_model.parameters(), lr=0.1)
    opt.step()
    digest = float(sum(float(p.detach().double().sum()) for p in model.parameters()))
    emit(grad_diff=diff, digest=digest, buckets=len(ddp_model._buckets),
         keys=sorted(ddp_model.state_dict())[:1])


def mismatch():
    width = 4 if dist.get_rank() == 0 else 5
    try:
        deepcore.nn.parallel.DistributedDataParallel(deepcore.nn.Linear(3, width))
    except ValueError as e:
        emit(error=str(e))


def failing_rank():
    if dist.get_rank() == 1:
        raise RuntimeError("rank 1 fails on purpose")
    dist.all_reduce(deepcore.ones(3))  # rank 0 waits here: the abort (or the timeout) must end it
    emit(unreachable=True)


def silent_rank():
    import time
    if dist.get_rank() == 1:
        time.sleep(30)  # never reaches the collective: rank 0 must time out, then abort the job
    dist.all_reduce(deepcore.ones(3))


def nccl_collectives():
    dist.destroy_process_group()
    dist.init_process_group("nccl")
    dev = f"cuda:{dist.get_rank()}"
    t = deepcore.tensor([1.0, 2.0], device=dev) * (dist.get_rank() + 1)
    dist.all_reduce(t)
    b = deepcore.full((2,), float(dist.get_rank() + 7), device=dev)
    dist.broadcast(b, src=0)
    emit(sum=t.cpu().tolist(), bcast=b.cpu().tolist())


def keras_fit():
    import deepcore.keras as keras
    keras.utils.set_random_seed(dist.get_rank())  # different seeds: fit must start from rank 0's weights
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1))).astype("float32")
    model = keras.Sequential([keras.layers.Dense(8, activation="tanh", input_shape=(5,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    hist = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    digest = float(sum(float(w.sum()) for w in model.get_weights()))
    emit(loss=hist.history["loss"], digest=digest)


def keras_train_step():
    """A model with its own train_step: sharded arrays, gradients averaged in optimizer.apply."""
    import deepcore.keras as keras

    class Step(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            loss.backward()
            with deepcore.no_grad():
                self.optimizer.apply([v.grad for v in self.trainable_weights], self.trainable_weights)
            self._loss_tracker.update_state(loss.detach())
            return {"loss": self._loss_tracker.result()}

    keras.utils.set_random_seed(dist.get_rank())
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 1))).astype("float32")
    inputs = keras.Input(shape=(4,))
    model = Step(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    hist = model.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    emit(loss=hist.history["loss"], digest=float(sum(float(w.sum()) for w in model.get_weights())),
         steps=int(model.optimizer.iterations))


if __name__ == "__main__":
    dist.init_process_group("mpi", timeout=float(sys.argv[2]) if len(sys.argv) > 2 else 60)
    globals()[sys.argv[1]]()
    dist.destroy_process_group()
