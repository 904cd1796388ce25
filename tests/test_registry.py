"""The op registry (deepcore/ops/registry.py) against the tree: bindings, files, Functions, backend calls, docs/ops.md."""
import ast
import importlib
import inspect
import pathlib
import re

import pytest

import deepcore
from deepcore import _C
from deepcore.autograd import Function
from deepcore.backend import cpu as cpu_backend
from deepcore.ops import registry
from deepcore.ops.registry import DEVICE_ONLY_KERNELS, FAMILIES, FAMILY, OPS

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = pathlib.Path(deepcore.__file__).resolve().parent
ALL_KERNELS = {k for f in FAMILIES for k in f.kernels}
# Support code that is no family of its own: the GEMM engine and the vector math loops.
SUPPORT_STEMS = ("gemm", "vec_math", "strided_loop")
# How the op layer reaches an engine: x._backend.K, backend.K / be.K, for_array(nd).K, _C.K.
BACKEND_NAMES = {"backend", "be", "_be"}
BACKEND_GETTERS = {"for_array", "for_device", "_backend_of", "_backend_of_array"}


def _defs(path):
    return re.findall(r'\bm\.def\(\s*"(\w+)"', path.read_text())


def _backend_calls(tree):
    """Kernel names reached through a backend in `tree`, plus *_kernel = "name" class attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            v = node.value
            via_getter = isinstance(v, ast.Call) and getattr(v.func, "attr", getattr(v.func, "id", None)) in BACKEND_GETTERS
            if (isinstance(v, ast.Attribute) and v.attr == "_backend") or via_getter or \
                    (isinstance(v, ast.Name) and v.id in BACKEND_NAMES):
                names.add(node.attr)
        elif isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Tuple)):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            targets += [e.id for t in node.targets if isinstance(t, ast.Tuple) for e in t.elts if isinstance(e, ast.Name)]
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for target, value in zip(targets, values if len(values) == len(targets) else values * len(targets)):
                if target.endswith("_kernel") and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    names.add(value.value)
    return names


def _direct_C_calls(tree):
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == "_C"}


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_family_binds_exactly_its_kernels():
    for fam in FAMILIES:
        path = ROOT / "csrc" / "bindings" / f"cpu_{fam.stem}.cpp"
        if not fam.native:
            assert not path.exists(), f"{fam.stem} is composed in the registry but {path.name} exists"
            continue
        bound = _defs(path)
        assert len(bound) == len(set(bound)), f"{path.name} binds a name twice: {bound}"
        assert set(bound) == set(fam.kernels), (f"{path.name} binds {sorted(bound)} but the registry says "
                                                f"{sorted(fam.kernels)}")


def test_the_module_file_binds_no_family_kernel():
    stray = set(_defs(ROOT / "csrc" / "bindings" / "cpu.cpp")) & ALL_KERNELS
    assert not stray, f"cpu.cpp binds family kernels {sorted(stray)}; they belong in cpu_<family>.cpp"


def test_no_kernel_belongs_to_two_families():
    seen = {}
    for fam in FAMILIES:
        for k in fam.kernels:
            assert k not in seen, f"{k} is listed under {seen[k]} and {fam.stem}"
            seen[k] = fam.stem


def test_every_registered_kernel_is_in_the_compiled_module():
    missing = sorted(k for k in ALL_KERNELS if not callable(getattr(_C, k, None)))
    assert not missing, f"deepcore._C lacks {missing}"


def test_cuda_bindings_match_the_table():
    cuda_dir = ROOT / "csrc" / "cuda"
    for fam in FAMILIES:
        cu, binding = cuda_dir / f"{fam.stem}.cu", ROOT / "csrc" / "bindings" / f"cuda_{fam.stem}.cpp"
        assert cu.exists() == fam.cuda, f"registry says cuda={fam.cuda} for {fam.stem}; {cu.name} exists: {cu.exists()}"
        assert binding.exists() == fam.cuda, f"registry says cuda={fam.cuda} for {fam.stem}; {binding.name} exists: " \
                                             f"{binding.exists()}"
        if fam.cuda:
            extra = set(_defs(binding)) - set(fam.kernels) - set(DEVICE_ONLY_KERNELS)
            assert not extra, f"{binding.name} binds {sorted(extra)}, which the registry does not give {fam.stem}"
    stems = {p.stem for p in cuda_dir.glob("*.cu")}
    known = set(FAMILY) | set(registry.CUDA_SUPPORT_STEMS)
    assert stems <= known, f"csrc/cuda holds {sorted(stems - known)}, which name no family"


def test_built_cuda_module_binds_what_the_sources_say():
    if not deepcore.cuda.is_built():
        pytest.skip("this install has no deepcore._C_cuda (built only where nvcc is found)")
    mod = importlib.import_module("deepcore._C_cuda")
    sources = registry.bound_kernels(ROOT, "cuda") - set(registry.EMULATOR_ONLY_KERNELS)
    missing = sorted(k for k in sources if not callable(getattr(mod, k, None)))
    assert not missing, f"csrc/bindings/cuda*.cpp define {missing} but deepcore._C_cuda lacks them"


def test_files_match_the_table():
    for fam in FAMILIES:
        for role, rel in fam.files().items():
            assert (ROOT / rel).exists(), f"{fam.stem}: its {role} file {rel} is missing"
        if not fam.native:
            assert not (ROOT / "csrc" / "cpu" / f"{fam.stem}.cpp").exists(), \
                f"{fam.stem} is composed in the registry but csrc/cpu/{fam.stem}.cpp exists"
    allowed = tuple(FAMILY) + SUPPORT_STEMS
    for path in sorted((ROOT / "csrc" / "cpu").glob("*.cpp")):
        assert any(path.stem == s or path.stem.startswith(s + "_") for s in allowed), \
            f"csrc/cpu/{path.name} belongs to no family (name it <family>.cpp or <family>_<isa>.cpp)"
    for path in sorted((ROOT / "csrc" / "bindings").glob("cpu_*.cpp")):
        stem = path.stem[len("cpu_"):]
        assert stem in FAMILY and FAMILY[stem].native, f"csrc/bindings/{path.name} names no native family"
    for path in sorted((ROOT / "python" / "deepcore" / "ops").glob("*.py")):
        if path.stem in ("__init__", "registry") or path.stem.startswith("_"):
            continue
        assert path.stem in FAMILY, f"ops/{path.name} names no family in the registry"


def _family_module(fam):
    rel = fam.files()["python"]
    return rel[len("python/"):-len(".py")].replace("/", ".")


def test_every_function_in_the_table_exists():
    for op in OPS:
        assert op.family in FAMILY, f"{op.name}: unknown family {op.family}"
        if op.function is None:
            continue
        mod = importlib.import_module(_family_module(FAMILY[op.family]))
        cls = getattr(mod, op.function, None)
        assert inspect.isclass(cls) and issubclass(cls, Function), \
            f"{op.name}: {mod.__name__} has no autograd Function {op.function}"


def test_every_public_function_class_is_in_the_table():
    named = {(op.family, op.function) for op in OPS}
    for fam in FAMILIES:
        mod = importlib.import_module(_family_module(fam))
        for name, obj in vars(mod).items():
            if inspect.isclass(obj) and issubclass(obj, Function) and obj.__module__ == mod.__name__ \
                    and not name.startswith("_"):
                assert (fam.stem, name) in named, f"{mod.__name__}.{name} is an autograd Function that no op names"


def _reached_kernels(node, helpers, seen=()):
    """Kernels `node` calls, through the module-level functions and base classes of its own module."""
    names = _backend_calls(node)
    called = {n.func.id for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    if isinstance(node, ast.ClassDef):
        called |= {b.id for b in node.bases if isinstance(b, ast.Name)}
    for name in sorted(called & set(helpers) - set(seen)):
        names |= _reached_kernels(helpers[name], helpers, tuple(seen) + (name,))
    return names


def test_function_kernels_are_in_the_table():
    problems = []
    for fam in FAMILIES:
        tree = ast.parse((ROOT / fam.files()["python"]).read_text())
        helpers = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            ops = [op for op in OPS if op.family == fam.stem and op.function == node.name]
            if not ops:
                continue
            used = _reached_kernels(node, helpers) - {"name", "empty_on", "full_on", "BinaryOp", "UnaryOp", "ReduceOp"}
            listed = set().union(*(op.kernels for op in ops))
            if not used <= listed:
                problems.append(f"{fam.stem}.{node.name} calls {sorted(used - listed)}, which the table omits")
    assert not problems, "\n".join(problems)


def test_every_backend_name_the_package_calls_exists():
    backend_module = {k for k in vars(cpu_backend) if not k.startswith("_")}
    module_functions = set(_defs(ROOT / "csrc" / "bindings" / "cpu.cpp"))
    problems = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        rel = path.relative_to(PACKAGE.parent)
        for name in sorted(_backend_calls(tree)):
            if name in backend_module or name in DEVICE_ONLY_KERNELS:
                continue
            if not hasattr(_C, name):
                problems.append(f"{rel}: calls backend kernel {name!r}, which deepcore._C lacks")
            elif name not in ALL_KERNELS:
                problems.append(f"{rel}: calls backend kernel {name!r}, which no family of the registry lists")
        for name in sorted(_direct_C_calls(tree)):
            if not hasattr(_C, name):
                problems.append(f"{rel}: uses _C.{name}, which deepcore._C lacks")
            elif callable(getattr(_C, name)) and not inspect.isclass(getattr(_C, name)) and \
                    name not in ALL_KERNELS and name not in module_functions:
                problems.append(f"{rel}: calls _C.{name}, which no family of the registry lists")
    assert not problems, "\n".join(problems)


def test_the_scan_sees_a_missing_kernel(tmp_path):
    """The scan above is only worth something if it finds a call; check it on a made-up module."""
    tree = ast.parse("def f(x):\n    return x._backend.no_such_kernel(x._data)\n")
    assert "no_such_kernel" in _backend_calls(tree)
    assert not hasattr(_C, "no_such_kernel")


def test_docs_ops_md_is_generated_from_the_table():
    expected = registry.render(registry.bound_kernels(ROOT, "cpu"), registry.bound_kernels(ROOT, "cuda"))
    actual = (ROOT / "docs" / "ops.md").read_text()
    assert actual == expected, "docs/ops.md is stale: run `python -m deepcore.ops.registry > docs/ops.md`"
