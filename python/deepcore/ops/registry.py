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
           ("reduce", "arg_reduce", "has_nonfinite"), cuda=True),
    Family("activation", "leaky ReLU, tanh/sigmoid backward, softmax and log-softmax; the pointwise activations "
           "(ELU ... threshold) as one kernel pair chosen by kind",
           ("leaky_relu", "leaky_relu_backward", "tanh_backward", "sigmoid_backward", "softmax", "log_softmax",
            "softmax_backward", "log_softmax_backward", "activation", "activation_backward"), cuda=True),
    Family("matmul", "batched matrix products on the packed GEMM (csrc/cpu/gemm.cpp)",
           ("matmul", "gemm_kernel_name"), cuda=True),
    Family("linear", "the dense layer: GEMM with the bias (and ReLU) fused", ("linear_forward",)),
    Family("conv", "conv2d forward and both backward passes (im2col + GEMM), conv1d on an H = 1 view; the "
           "transposed convolutions as their adjoints; unfold/fold as one strided copy/add per kernel tap",
           ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight"), cuda=True),
    Family("pool", "max/avg pooling (1-d on an H = 1 view), adaptive pooling (one native pool for equal bins, "
           "else GEMMs with averaging matrices / gathers of each bin's first maximum) and nearest upsampling",
           ("max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
            "upsample_nearest2d_forward", "upsample_nearest2d_backward"), cuda=True),
    Family("loss", "fused cross-entropy, NLL, MSE, L1, BCE and BCE-with-logits",
           ("cross_entropy", "cross_entropy_backward", "nll_loss", "nll_loss_backward", "pointwise_loss",
            "pointwise_loss_backward"), cuda=True),
    Family("dropout", "the Philox mask, scale and backward; channel-wise and alpha dropout draw the same mask "
           "and apply it with elementwise ops", ("dropout", "dropout_backward"), cuda=True),
    Family("random", "Philox 4x32-10: uniform, normal, integers, permutations, the seed; the in-place fills "
           "(uniform_, normal_, exponential_) and multinomial",
           ("manual_seed", "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm", "uniform_",
            "normal_", "exponential_", "multinomial")),
    Family("optim", "fused optimizer updates, one call per parameter group",
           ("sgd_step", "rmsprop_step", "adagrad_step", "adadelta_step", "adam_step"),
           python="python/deepcore/optim/optimizer.py", cuda=True),
    Family("index", "index_select / index_add_, gather / scatter_ (torch.gather, Tensor.scatter_) and the uint8 "
           "batch gather; index_fill, masked_select, nonzero, take_along_dim on them",
           ("index_select", "index_add_", "gather", "scatter_", "index_select_u8")),
    Family("sort", "sort (stable, NaN largest) and topk along a dim; argsort, kthvalue, median, unique on them",
           ("sort", "topk")),
    Family("scan", "cumsum, cumprod and cumprod's exact backward along a dim; prod as the scan's last row",
           ("cumsum", "cumprod", "cumprod_backward")),
    Family("indexing", "advanced indexing: tensors, lists, ranges and bool masks as indices (a gather on index "
           "kernels; setitem with where)", ()),
    Family("shape", "views (reshape, permute, expand, indexing), cat, split: memory's kernels", ()),
    Family("normalization", "batch, layer, group, instance and RMS norm with closed-form backwards; local response "
           "norm; vector norms and the distances on them (elementwise, reduce and pool kernels)", ()),
    Family("attention", "scaled dot-product attention (one node, closed-form backward) and multi-head attention, "
           "on the matmul, softmax, dropout and linear kernels", ()),
    Family("recurrent", "RNN/LSTM/GRU gate arithmetic: one fused pass per time step each way; a layer-direction's "
           "time loop as one node (recurrent GEMM on linear's kernel, one weight-gradient GEMM over all steps)",
           ("rnn_cell_forward", "rnn_cell_backward", "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward",
            "gru_cell_backward"), cuda=True),
    Family("padding", "F.pad: constant (a fill and one copy), reflect/replicate/circular (one strided copy per "
           "border position)", ()),
    Family("pixel_shuffle", "pixel_shuffle / pixel_unshuffle: a reshape, a permute and a reshape", ()),
    Family("pointwise", "composed pointwise ops: rsqrt, isnan/isinf/isfinite, nan_to_num, logical and bool bitwise "
           "ops, clamp_min/max, lerp, addcmul/addcdiv, isclose/allclose/equal (elementwise kernels)", ()),
    Family("arrange", "repeat/tile/repeat_interleave, flip/roll, tensor_split, diagonal/diag/diag_embed/trace: "
           "views, expands and gathers on shape and index kernels", ()),
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
                                                  ("sqrt", "Sqrt"), ("abs", "Abs"), ("sin", "Sin"), ("cos", "Cos"),
                                                  ("log1p", "Log1p"), ("expm1", "Expm1"))),
    Op("floor/ceil/round", "elementwise", "Rounding", (_U,)),
    Op("reciprocal", "elementwise", "Reciprocal", (_U,)),
    Op("erf", "elementwise", "Erf", (_U,)),
    Op("erfinv", "elementwise", "Erfinv", (_U,)),
    Op("remainder/%", "elementwise", "Remainder", (_B, _S, _U, _R)),
    Op("fmod", "elementwise", "Fmod", (_B, _S, _U, _R)),
    Op("floor_divide///", "elementwise", "FloorDivide", (_B, _S, _R)),
    Op("clamp", "elementwise", "Clamp", (_B, _S)),
    Op("eq/ne/lt/le/gt/ge", "elementwise", None, (_B, _S)),
    Op("where", "elementwise", "Where", ("where",)),
    Op("masked_fill", "elementwise", "Where", ("where",)),
    Op("triu/tril", "elementwise", "Where", ("where", _B)),
    Op("tanh", "elementwise", "Tanh", (_U, "tanh_backward")),
    Op("sigmoid", "elementwise", "Sigmoid", (_U, "sigmoid_backward")),
    Op("relu", "elementwise", "Relu", (_U, "leaky_relu_backward")),
    Op("leaky_relu", "elementwise", "LeakyRelu", ("leaky_relu", "leaky_relu_backward")),
    Op("sum", "reduce", "Sum", (_R,)),
    Op("mean", "reduce", "Mean", (_R,)),
    Op("std/var/std_mean/var_mean", "reduce", None, (_R, _B, _U, "cast")),
    Op("max/amax", "reduce", "Max", (_R, _B, "arg_reduce")),
    Op("min/amin", "reduce", "Min", (_R, _B, "arg_reduce")),
    Op("argmax/argmin", "reduce", None, ("arg_reduce",)),
    Op("all/any", "reduce", None, (_S, _R)),
    Op("logsumexp", "reduce", None, (_U, _B, _S, _R, "where")),
    Op("aminmax", "reduce", "Min", (_R, _B, "arg_reduce")),
    Op("softmax", "activation", "Softmax", ("softmax", "softmax_backward")),
    Op("log_softmax", "activation", "LogSoftmax", ("log_softmax", "log_softmax_backward")),
    Op("softmin", "activation", "Softmax", ("softmax", "softmax_backward", _U)),
    *(Op(n, "activation", "PointwiseActivation", ("activation", "activation_backward"))
      for n in ("elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "hardtanh", "relu6", "hardsigmoid",
                "hardswish", "logsigmoid", "softsign", "threshold")),
    Op("prelu", "activation", None, ("where", _B, _S, _R)),
    Op("matmul/mm/@", "matmul", "Matmul", ("matmul",)),
    Op("linear", "linear", "Linear", ("linear_forward", "leaky_relu_backward", "matmul", _R)),
    Op("conv2d", "conv", "Conv2d", ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight")),
    Op("conv_transpose2d", "conv", "ConvTranspose2d",
       ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", _B, _R)),
    Op("conv1d", "conv", "Conv2d", ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight")),
    Op("conv_transpose1d", "conv", "ConvTranspose2d",
       ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", _B, _R)),
    Op("unfold", "conv", "Unfold", ("copy_", _B, "view")),
    Op("fold", "conv", "Fold", ("copy_", _B, "view")),
    Op("max_pool2d", "pool", "MaxPool2d", ("max_pool2d_forward", "max_pool2d_backward")),
    Op("avg_pool2d", "pool", "AvgPool2d", ("avg_pool2d_forward", "avg_pool2d_backward")),
    Op("max_pool1d", "pool", "MaxPool2d", ("max_pool2d_forward", "max_pool2d_backward")),
    Op("avg_pool1d", "pool", "AvgPool2d", ("avg_pool2d_forward", "avg_pool2d_backward")),
    Op("adaptive_avg_pool1d/2d", "pool", None,
       ("avg_pool2d_forward", "avg_pool2d_backward", "matmul", "has_nonfinite", "index_select", "index_add_",
        "where", _B, _R)),
    Op("adaptive_max_pool1d/2d", "pool", None,
       ("max_pool2d_forward", "max_pool2d_backward", "index_select", "index_add_", "arg_reduce", _B)),
    Op("interpolate (nearest)", "pool", "UpsampleNearest2d",
       ("upsample_nearest2d_forward", "upsample_nearest2d_backward")),
    Op("cross_entropy", "loss", "CrossEntropy", ("cross_entropy", "cross_entropy_backward")),
    Op("nll_loss", "loss", "NLLLoss", ("nll_loss", "nll_loss_backward")),
    *(Op(n, "loss", "PointwiseLoss", ("pointwise_loss", "pointwise_loss_backward"))
      for n in ("mse_loss", "l1_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits")),
    *(Op(n, "loss", None, (_U, _B, _S, _R)) for n in ("huber_loss", "smooth_l1_loss", "kl_div")),
    Op("dropout", "dropout", "Dropout", ("dropout", "dropout_backward")),
    Op("dropout1d/2d/3d", "dropout", None, ("full", "dropout", _B, _S)),
    Op("alpha_dropout/feature_alpha_dropout", "dropout", None, ("full", "dropout", "cast", _B, _S)),
    *(Op(n, "random", None, (n,)) for n in ("rand", "randn", "randint", "randperm", "manual_seed", "uniform_",
                                             "normal_", "exponential_", "multinomial")),
    Op("bernoulli/bernoulli_", "random", None, ("rand", _B, "cast", "copy_")),
    Op("random_", "random", None, ("randint", "copy_")),
    Op("normal", "random", None, ("randn", "normal_", _B)),
    *(Op(f"optim.{n}", "optim", None, (k,)) for n, k in (("SGD", "sgd_step"), ("RMSprop", "rmsprop_step"),
                                                          ("Adagrad", "adagrad_step"),
                                                          ("Adadelta", "adadelta_step"), ("Adam/AdamW", "adam_step"))),
    Op("optim.Adamax/NAdam/RAdam/LBFGS", "optim", None, (_U, _B, _S, _R)),  # composed: ComposedOptimizer
    Op("index_select", "index", "IndexSelect", ("index_select", "index_add_")),
    Op("index_add_", "index", None, ("index_add_",)),
    Op("embedding", "index", "IndexSelect", ("index_select", "index_add_")),
    Op("embedding(padding_idx)", "index", "MaskRowGrad", ("where",)),
    Op("one_hot", "index", None, (_B,)),
    Op("gather/take_along_dim/take", "index", "Gather", ("gather", "scatter_")),
    Op("scatter/scatter_add (and _)", "index", "Scatter", ("cast", "scatter_", "gather", "copy_")),
    Op("index_fill(_)", "index", None, ("scatter_", "where")),
    Op("masked_select/nonzero", "index", None, ("index_select", "index_add_", "view")),
    Op("sort/argsort/msort", "sort", "Sort", ("sort", "scatter_")),
    Op("topk", "sort", "TopK", ("topk", "scatter_")),
    Op("kthvalue/median", "sort", "Sort", ("sort", "scatter_", "gather", "where", _B, _R)),
    Op("unique", "sort", None, ("sort", "index_select", "cumsum", "scatter_", _B)),
    Op("cumsum", "scan", "Cumsum", ("cumsum",)),
    Op("cumprod", "scan", "Cumprod", ("cumprod", "cumprod_backward")),
    Op("prod", "scan", "Prod", ("cumprod", "cumprod_backward", "copy_")),
    Op("reshape/flatten/squeeze/unsqueeze", "shape", "Reshape", ("view", "contiguous")),
    Op("view", "shape", "View", ("view",)),
    Op("__getitem__/__setitem__ (advanced)", "indexing", None, ("view", "index_select", "index_add_", "where")),
    Op("permute/transpose/t", "shape", "Permute", ("view",)),
    Op("narrow/movedim/swapaxes/unflatten", "shape", None, ("view", "contiguous")),
    Op("expand", "shape", "Expand", ("view", _R)),
    Op("broadcast_to/broadcast_tensors/meshgrid", "shape", "Expand", ("view", _R)),
    Op("select", "shape", "Index", ("view", "copy_")),
    Op("__getitem__", "shape", "Index", ("view", "copy_")),
    Op("cat/stack", "shape", "Cat", ("view", "copy_")),
    Op("split/chunk/unbind", "shape", "Split", ("view", "copy_")),
    Op("batch_norm", "normalization", "BatchNormTrain", (_U, _B, _S, _R)),
    *(Op(n, "normalization", "Normalize", (_U, _B, _S, _R)) for n in ("layer_norm", "group_norm", "instance_norm",
                                                                      "rms_norm")),
    Op("local_response_norm", "normalization", None, ("avg_pool2d_forward", "avg_pool2d_backward", _B, _S)),
    *(Op(n, "normalization", "VectorNorm", (_U, _B, _S, _R, "where")) for n in ("normalize", "cosine_similarity",
                                                                                 "pairwise_distance")),
    Op("scaled_dot_product_attention", "attention", "ScaledDotProductAttention",
       ("matmul", "softmax", "softmax_backward", "dropout", "dropout_backward", "has_nonfinite", _B, _S, _R, "where")),
    Op("multi_head_attention_forward", "attention", "ScaledDotProductAttention",
       ("linear_forward", "matmul", "softmax", "softmax_backward", "dropout", "dropout_backward", "has_nonfinite",
        _B, _S, _R, "where", "view", "copy_")),
    Op("rnn_cell", "recurrent", "RNNCell", ("rnn_cell_forward", "rnn_cell_backward")),
    Op("lstm_cell", "recurrent", "LSTMCell", ("lstm_cell_forward", "lstm_cell_backward")),
    Op("gru_cell", "recurrent", "GRUCell", ("gru_cell_forward", "gru_cell_backward")),
    Op("recurrent_sequence (nn.RNN/LSTM/GRU, keras SimpleRNN/LSTM/GRU)", "recurrent", "Sequence",
       ("rnn_cell_forward", "rnn_cell_backward", "lstm_cell_forward", "lstm_cell_backward", "gru_cell_forward",
        "gru_cell_backward", "linear_forward", "matmul", "view", "copy_", "empty", "contiguous", _B, _R)),
    Op("rnn_cell/lstm_cell/gru_cell (other activations, engines without the kernels)", "recurrent", None,
       (_U, _B, "view", "copy_")),
    Op("nn.utils.rnn pack/pad (and RNNs on a PackedSequence)", "recurrent", None,
       ("index_select", "index_add_", "view", "copy_")),
    Op("pad (constant)", "padding", "ConstantPad", ("full", "copy_", "view")),
    Op("pad (reflect/replicate/circular)", "padding", "RepeatPad", ("copy_", _B, "view")),
    Op("pixel_shuffle/pixel_unshuffle", "pixel_shuffle", None, ("view", "contiguous")),
    Op("norm", "normalization", "VectorNorm", (_U, _B, _S, _R, "where")),
    Op("cdist", "normalization", "VectorNorm", (_U, _B, _S, _R, "where")),
    Op("bmm/mv/dot/outer", "matmul", "Matmul", ("matmul",)),
    Op("addmm/baddbmm/addmv", "matmul", "Matmul", ("matmul", _B, _S)),
    Op("einsum", "matmul", "Matmul", ("matmul", "view", "contiguous", _R)),
    *(Op(n, "pointwise", None, k) for n, k in (
        ("rsqrt", (_U,)), ("isnan/isinf/isfinite", (_B, _S, _U)), ("nan_to_num", (_B, _S, "where")),
        ("logical_and/or/xor/not, & | ^ ~ on bool", (_B, _S, "where")), ("clamp_min/clamp_max", (_B, _S)),
        ("lerp", (_B, _S)), ("addcmul/addcdiv", (_B, _S)), ("isclose/allclose/equal", (_B, _S, _U, _R, "where")))),
    Op("repeat/tile", "arrange", None, ("view", "contiguous")),
    Op("repeat_interleave/flip", "arrange", None, ("index_select", "index_add_")),
    Op("roll/tensor_split", "arrange", None, ("view", "copy_")),
    Op("diagonal/diag/trace", "arrange", "Diagonal", ("view", "copy_")),
    Op("diag(1-d)/diag_embed", "arrange", "DiagEmbed", ("view", "copy_")),
)

FAMILY = {f.stem: f for f in FAMILIES}

# Kernels only a device engine has: moving memory to and from the host. The CPU is the host.
DEVICE_ONLY_KERNELS = ("to_device", "to_host", "device_count", "synchronize", "device_name", "memory_allocated",
                       "max_memory_allocated", "empty_cache", "memory_reserved", "reset_peak_memory_stats",
                       "dropout_at")  # the CUDA dropout takes the Philox counters the CPU stream reserved for it
# Bound only in deepcore._C_cuda_emu (the launch emulator's tests of itself: csrc/bindings/cuda.cpp).
EMULATOR_ONLY_KERNELS = ("emulator_self_test_sum", "emulator_self_test_fault")
# csrc/cuda files that are no kernel family: the NCCL transport of deepcore.distributed (nccl.cu,
# bound by cuda_nccl.cpp into _C_cuda only).
CUDA_SUPPORT_STEMS = ("nccl",)


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
