# Type stub for deepcore._C, the compiled CPU engine (pybind11 module built from csrc/bindings/).
# Its kernels are not described here: every attribute is Any, so mypy checks the Python code
# around them and does not report the extension as a missing module.
from typing import Any

def __getattr__(name: str) -> Any: ...
