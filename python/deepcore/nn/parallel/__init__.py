"""torch.nn.parallel: single-process data parallelism over several devices of one machine.

deepcore runs a module on one device per process, so ``DataParallel`` and ``data_parallel`` run the
module on the inputs' device (what PyTorch does with a single device). Scaling out across
processes is ``DistributedDataParallel`` (distributed.py)."""
from ..modules.module import Module


def _one_device(device_ids, name):
    ids = list(device_ids) if device_ids is not None else []
    if len(ids) > 1:
        raise NotImplementedError(f"{name}: deepcore runs one device per process; got device_ids={ids} (use one "
                                  f"device, or one process per device)")


class DataParallel(Module):
    """Wraps `module`; forward runs it on the inputs' device. ``.module`` is the wrapped module, and the
    state_dict keys carry the ``module.`` prefix, as in PyTorch."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        _one_device(device_ids, "DataParallel")
        self.module = module
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """Runs ``module(*inputs)`` (inputs: a tensor or a tuple of tensors) on one device."""
    _one_device(device_ids, "data_parallel")
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))


from .distributed import DistributedDataParallel  # noqa: E402,F401
