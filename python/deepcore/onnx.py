"""torch.onnx, importable: scripts import it at the top and export only on request. deepcore has no
ONNX exporter yet, so export() stops with the one-line message deepcore.run prints."""
from ._missing import NotImplementedInDeepcore, missing_message


def export(model, args, f=None, *more, **kwargs):
    raise NotImplementedInDeepcore(missing_message("torch.onnx.export"))


def is_in_onnx_export():
    return False
