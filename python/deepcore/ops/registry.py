"""The op registry: one table of every kernel family and every op, in code.

Modelled on PyTorch's ``native_functions.yaml``, kept small. A family is named by its stem, and the
stem names its five files::

    csrc/cpu/<stem>.cpp            the CPU kernels, forward and backward side by side
    csrc/cuda/<stem>.cu            their CUDA twins (where the family has them)
    csrc/bindings/cpu_<stem>.cpp   the pybind11 functions of deepcore._C (cuda_<stem>.cpp for _C_cuda)
    python/deepcore/ops/<stem>.py  the autograd Functions and the checked op entry points
    tests/test_<stem>.py           NumPy float64 references, gradchecks, PyTorch comparisons

Families whose ops are composed of other families' kernels (shape views, batch norm, the RNN gates)
have no native files. ``tests/test_registry.py`` keeps this table, the bindings, the files and the
op layer's backend calls in agreement, and checks that ``docs/ops.md`` is ``render()``'s output
(regenerate it with ``python -m deepcore.ops.registry > docs/ops.md``).
"""
import argparse
import pathlib
import re
import sys
from typing import NamedTuple, Optional, Tuple


class Family(NamedTuple):
    stem: str
    summary: str
    kernels: Tuple[str, ...]       # the functions csrc/bindings/cpu_<stem>.cpp binds on deepcore._C
    cuda: bool = False             # csrc/cuda/<stem>.cu and csrc/bindings/cuda_<stem>.cpp exist
    python: Optional[str] = None   # the op layer, when it is not python/deepcore/ops/<stem>.py

    @property
    def native(self):
        return bool(self.kernels)

    def files(self):
        """The family's files that must exist, by role."""
        out = {"python": self.python or f"python/deepcore/ops/{self.stem}.py", "test": f"tests/test_{self.stem}.py"}
        if self.native:
            out["cpu"] = f"csrc/cpu/{self.stem}.cpp"
            out["binding"] = f"csrc/bindings/cpu_{self.stem}.cpp"
        if self.cuda:
            out["cuda"] = f"csrc/cuda/{self.stem}.cu"
            out["cuda_binding"] = f"csrc/bindings/cuda_{self.stem}.cpp"
        return out


class Op(NamedTuple):
    name: str                      # the public name (torch.<name>, F.<name> or Tensor.<name>)
    family: str
    function: Optional[str]        # its autograd Function in the family's op module; None: not one node
    kernels: Tuple[str, ...]       # the backend kernels it runs (a composed op: those of its parts)


FAMILIES = (
    Family("memory", "allocation, copies, casts and host<->device moves (the NDArray type itself, its views "
           "and NumPy interchange are bound with the module, in cpu.cpp)",
           ("empty", "full", "contiguous", "copy_", "cast", "cpu_empty_cache"), cuda=True),
    Family("elementwise", "unary and binary arithmetic, comparisons, where (broadcasting, strided)",
           ("unary", "binary", "binary_scalar", "where"), cuda=True),
    Family("reduce", "sum/mean/max/min over any dims, argmax/argmin, the non-finite scan",
           ("reduce", "arg_reduce", "has_nonfinite")),
    Family("activation", "leaky ReLU, tanh/sigmoid backward, softmax and log-softmax",
           ("leaky_relu", "leaky_relu_backward", "tanh_backward", "sigmoid_backward", "softmax", "log_softmax",
            "softmax_backward", "log_softmax_backward")),
    Family("matmul", "batched matrix products on the packed GEMM (csrc/cpu/gemm.cpp)",
           ("matmul", "gemm_kernel_name")),
    Family("linear", "the dense layer: GEMM with the bias (and ReLU) fused", ("linear_forward",)),
    Family("conv", "conv2d forward and both backward passes (im2col + GEMM); conv_transpose2d as its adjoint",
           ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight")),
    Family("pool", "max/avg pooling and nearest upsampling",
           ("max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
            "upsample_nearest2d_forward", "upsample_nearest2d_backward")),
    Family("loss", "fused cross-entropy, NLL, MSE, L1, BCE and BCE-with-logits",
           ("cross_entropy", "cross_entropy_backward", "nll_loss", "nll_loss_backward", "pointwise_loss",
            "pointwise_loss_backward")),
    Family("dropout", "the Philox mask, scale and backward", ("dropout", "dropout_backward")),
    Family("random", "Philox 4x32-10: uniform, normal, integers, permutations, the seed",
           ("manual_seed", "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm")),
    Family("optim", "fused optimizer updates, one call per parameter group",
           ("sgd_step", "rmsprop_step", "adagrad_step", "adadelta_step", "adam_step"),
           python="python/deepcore/optim/optimizer.py"),
    Family("index", "index_select / index_add_ and the uint8 batch gather",
           ("index_select", "index_add_", "index_select_u8")),
    Family("shape", "views (reshape, permute, expand, indexing), cat, split: memory's kernels", ()),
    Family("normalization", "batch norm with a closed-form backward, on elementwise and reduce kernels", ()),
    Family("recurrent", "RNN/LSTM/GRU gate arithmetic, on elementwise kernels", ()),
)

_U, _B, _S, _R = "unary", "binary", "binary_scalar", "reduce"

OPS = (
    Op("to", "memory", "Cast", ("cast",)),
    Op("to(device)", "memory", "ToDevice", ("to_device", "to_host")),
    Op("clone", "memory", "Clone", ("copy_",)),
    Op("contiguous", "memory", "Clone", ("copy_",)),
    *(Op(n, "elementwise", f, (_B, _S)) for n, f in (("add", "Add"), ("sub", "Sub"), ("mul", "Mul"),
                                                     ("div", "Div"), ("pow", "Pow"), ("maximum", "Maximum"),
                                                     ("minimum", "Minimum"))),
    *(Op(n, "elementwise", f, (_U,)) for n, f in (("neg", "Neg"), ("exp", "Exp"), ("log", "Log"),
                                                  ("sqrt", "Sqrt"), ("abs", "Abs"))),
    Op("clamp", "elementwise", "Clamp", (_B, _S)),
    Op("eq/ne/lt/le/gt/ge", "elementwise", None, (_B, _S)),
    Op("where", "elementwise", "Where", ("where",)),
    Op("tanh", "elementwise", "Tanh", (_U, "tanh_backward")),
    Op("sigmoid", "elementwise", "Sigmoid", (_U, "sigmoid_backward")),
    Op("relu", "elementwise", "Relu", (_U, "leaky_relu_backward")),
    Op("leaky_relu", "elementwise", "LeakyRelu", ("leaky_relu", "leaky_relu_backward")),
    Op("sum", "reduce", "Sum", (_R,)),
    Op("mean", "reduce", "Mean", (_R,)),
    Op("max/amax", "reduce", "Max", (_R, _B, "arg_reduce")),
    Op("min/amin", "reduce", "Min", (_R, _B, "arg_reduce")),
    Op("argmax/argmin", "reduce", None, ("arg_reduce",)),
    Op("softmax", "activation", "Softmax", ("softmax", "softmax_backward")),
    Op("log_softmax", "activation", "LogSoftmax", ("log_softmax", "log_softmax_backward")),
    Op("matmul/mm/@", "matmul", "Matmul", ("matmul",)),
    Op("linear", "linear", "Linear", ("linear_forward", "leaky_relu_backward", "matmul", _R)),
    Op("conv2d", "conv", "Conv2d", ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight")),
    Op("conv_transpose2d", "conv", "ConvTranspose2d",
       ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", _B, _R)),
    Op("max_pool2d", "pool", "MaxPool2d", ("max_pool2d_forward", "max_pool2d_backward")),
    Op("avg_pool2d", "pool", "AvgPool2d", ("avg_pool2d_forward", "avg_pool2d_backward")),
    Op("interpolate (nearest)", "pool", "UpsampleNearest2d",
       ("upsample_nearest2d_forward", "upsample_nearest2d_backward")),
    Op("cross_entropy", "loss", "CrossEntropy", ("cross_entropy", "cross_entropy_backward")),
    Op("nll_loss", "loss", "NLLLoss", ("nll_loss", "nll_loss_backward")),
    *(Op(n, "loss", "PointwiseLoss", ("pointwise_loss", "pointwise_loss_backward"))
      for n in ("mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits")),
    *(Op(n, "loss", None, (_U, _B, _S, _R)) for n in ("huber_loss", "smooth_l1_loss", "kl_div")),
    Op("dropout", "dropout", "Dropout", ("dropout", "dropout_backward")),
    *(Op(n, "random", None, (n,)) for n in ("rand", "randn", "randint", "randperm", "manual_seed")),
    *(Op(f"optim.{n}", "optim", None, (k,)) for n, k in (("SGD", "sgd_step"), ("RMSprop", "rmsprop_step"),
                                                          ("Adagrad", "adagrad_step"),
                                                          ("Adadelta", "adadelta_step"), ("Adam/AdamW", "adam_step"))),
    Op("index_select", "index", "IndexSelect", ("index_select", "index_add_")),
    Op("index_add_", "index", None, ("index_add_",)),
    Op("embedding", "index", "IndexSelect", ("index_select", "index_add_")),
    Op("embedding(padding_idx)", "index", "MaskRowGrad", ("where",)),
    Op("one_hot", "index", None, (_B,)),
    Op("reshape/flatten/squeeze/unsqueeze", "shape", "Reshape", ("view", "contiguous")),
    Op("view", "shape", "View", ("view",)),
    Op("permute/transpose/t", "shape", "Permute", ("view",)),
    Op("expand", "shape", "Expand", ("view", _R)),
    Op("__getitem__", "shape", "Index", ("view", "copy_")),
    Op("cat/stack", "shape", "Cat", ("view", "copy_")),
    Op("split/chunk/unbind", "shape", "Split", ("view", "copy_")),
    Op("batch_norm", "normalization", "BatchNormTrain", (_U, _B, _S, _R)),
    Op("rnn_cell/lstm_cell/gru_cell", "recurrent", None, (_U, _B, "view", "copy_")),
)

FAMILY = {f.stem: f for f in FAMILIES}

# Kernels only a device engine has: moving memory to and from the host. The CPU is the host.
DEVICE_ONLY_KERNELS = ("to_device", "to_host", "device_count", "synchronize", "device_name", "memory_allocated",
                       "max_memory_allocated", "empty_cache")


def render(cpu_kernels, cuda_kernels):
    """docs/ops.md: the families and their files, then every op with its coverage per device.

    cpu_kernels / cuda_kernels: the kernel names each engine binds (read from csrc/bindings/)."""
    lines = ["# Ops", "",
             "Generated from `python/deepcore/ops/registry.py` by `python -m deepcore.ops.registry`; "
             "`tests/test_registry.py` fails when this page, the table or the files disagree.", "",
             "## Families", "",
             "Each family's files share its stem. \"composed\": the family's ops run on other families' kernels.",
             "", "| family | what | CPU kernel | CUDA kernel | binding | op layer | tests |",
             "|---|---|---|---|---|---|---|"]
    for f in FAMILIES:
        files = f.files()
        cell = [f"`{files[k]}`" if k in files else ("composed" if not f.native else "—")
                for k in ("cpu", "cuda", "binding", "python", "test")]
        lines.append(f"| {f.stem} | {f.summary} | " + " | ".join(cell) + " |")
    lines += ["", "## Ops", "",
              "CPU / CUDA: the kernels the op runs are all bound by that engine (yes), some (partial), none (no).",
              "", "| op | family | autograd Function | kernels | CPU | CUDA |", "|---|---|---|---|---|---|"]
    for op in OPS:
        fn = f"`{op.function}`" if op.function else "—"
        kernels = ", ".join(f"`{k}`" for k in op.kernels)
        lines.append(f"| `{op.name}` | {op.family} | {fn} | {kernels} | {_coverage(op, cpu_kernels, True)} | "
                     f"{_coverage(op, cuda_kernels, False)} |")
    return "\n".join(lines) + "\n"


def _coverage(op, bound, host):
    # The host engine needs no transfer kernels of its own: its tensors are already on the host.
    needed = [k for k in op.kernels if not (host and k in DEVICE_ONLY_KERNELS)]
    have = sum(k in bound for k in needed)
    return "yes" if have == len(needed) else ("partial" if have else "no")


def bound_kernels(root, engine):
    """The function names that csrc/bindings/<engine>*.cpp bind with m.def (engine: 'cpu' or 'cuda')."""
    names = set()
    for path in sorted(pathlib.Path(root, "csrc", "bindings").glob(f"{engine}*.cpp")):
        names.update(re.findall(r'\bm\.def\(\s*"(\w+)"', path.read_text()))
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description="Print docs/ops.md from the op registry.")
    parser.add_argument("root", nargs="?", default=".", help="the repository root (default: .)")
    args = parser.parse_args(argv)
    sys.stdout.write(render(bound_kernels(args.root, "cpu"), bound_kernels(args.root, "cuda")))


if __name__ == "__main__":
    main()
