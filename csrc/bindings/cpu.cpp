// deepcore._C: the CPU engine's Python face. pybind11 only; no arithmetic here.
// This file is the module itself: the NDArray type and its NumPy bridge, the
// enums, error translation, threads and CPU capability. Each kernel family binds
// its own functions in cpu_<family>.cpp (cpu_families.h), called after the types
// are registered so that their signatures name deepcore._C.NDArray.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/cpu_families.h"
#include "common/cpu_features.h"
#include "common/ndarray.h"
#include "common/ops.h"
#include "common/overlap.h"
#include "common/parallel.h"
#include "cpu/vec_math.h"

namespace py = pybind11;
using namespace deepcore;

namespace {

py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::Float32: return py::dtype::of<float>();
    case DType::Float64: return py::dtype::of<double>();
    case DType::Int64: return py::dtype::of<int64_t>();
    case DType::Bool: return py::dtype("bool");
  }
  throw ValueError("unknown dtype");
}

// Shares the NumPy array's memory: the Storage keeps a reference to the array.
NDArray from_numpy(py::array arr) {
  py::dtype dt = arr.dtype();
  DType dtype;
  char kind = dt.kind();
  if (kind == 'f' && dt.itemsize() == 4) dtype = DType::Float32;
  else if (kind == 'f' && dt.itemsize() == 8) dtype = DType::Float64;
  else if (kind == 'i' && dt.itemsize() == 8) dtype = DType::Int64;
  else if (kind == 'b') dtype = DType::Bool;
  else throw TypeError("from_numpy: unsupported NumPy dtype " + std::string(py::str(dt)) +
                       " (deepcore holds float32, float64, int64 and bool)");
  DC_CHECK_TYPE(dt.attr("isnative").cast<bool>(), "from_numpy: the array is not in native byte order");
  DC_CHECK(arr.writeable(), "from_numpy: the array is read-only; pass a writable copy (np.array(x))");
  const int64_t item = static_cast<int64_t>(itemsize(dtype));
  NDArray a;
  a.dtype = dtype;
  int64_t extent = 0;
  bool empty_array = arr.size() == 0;
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    int64_t st = arr.strides(d);
    DC_CHECK(st >= 0 && st % item == 0, "from_numpy: stride " << st << " bytes of dimension " << d
                                                              << " is negative or not a multiple of the item size");
    a.shape.push_back(arr.shape(d));
    a.strides.push_back(arr.shape(d) == 1 ? 0 : st / item);
    if (!empty_array) extent += (arr.shape(d) - 1) * (st / item);
  }
  auto st = std::make_shared<Storage>();
  st->data = arr.mutable_data();
  st->nbytes = empty_array ? 0 : static_cast<size_t>(extent + 1) * item;
  PyObject* owner = arr.ptr();
  Py_INCREF(owner);
  st->deleter = [owner](void*) {
    if (!Py_IsInitialized()) return;
    py::gil_scoped_acquire gil;
    Py_DECREF(owner);
  };
  a.storage = std::move(st);
  return a;
}

py::array to_numpy(const NDArray& a) {
  check_device(a, Device::CPU, "numpy");
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end()), strides;
  for (int64_t s : a.strides) strides.push_back(static_cast<py::ssize_t>(s * a.item_size()));
  auto* keep = new std::shared_ptr<Storage>(a.storage);
  py::capsule base(keep, [](void* p) { delete static_cast<std::shared_ptr<Storage>*>(p); });
  return py::array(numpy_dtype(a.dtype), shape, strides, a.raw(), base);
}

py::object item(const NDArray& a) {
  check_device(a, Device::CPU, "item");
  DC_CHECK(a.numel() == 1, "item: only a tensor with one element can be converted to a Python number, got shape "
                               << shape_str(a.shape));
  switch (a.dtype) {
    case DType::Float32: return py::float_(*a.data<float>());
    case DType::Float64: return py::float_(*a.data<double>());
    case DType::Int64: return py::int_(*a.data<int64_t>());
    case DType::Bool: return py::bool_(*a.data<bool>());
  }
  return py::none();
}

NDArray make_view(const NDArray& a, const Shape& shape, const Shape& strides, int64_t offset) {
  check_view_bounds(*a.storage, a.dtype, offset, shape, strides);
  NDArray v = a;
  v.shape = shape;
  v.strides = strides;
  v.offset = offset;
  return v;
}

CpuIsa isa_from_name(const std::string& name) {
  if (name == "portable") return CpuIsa::Portable;
  if (name == "avx2") return CpuIsa::AVX2;
  if (name == "avx512") return CpuIsa::AVX512;
  throw ValueError("set_cpu_capability: unknown capability '" + name + "' (expected portable, avx2 or avx512)");
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "deepcore's CPU engine";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });

  py::enum_<DType>(m, "DType")
      .value("float32", DType::Float32)
      .value("float64", DType::Float64)
      .value("int64", DType::Int64)
      .value("bool", DType::Bool);
  py::enum_<Device>(m, "Device").value("cpu", Device::CPU).value("cuda", Device::CUDA);
  py::enum_<UnaryOp>(m, "UnaryOp")
      .value("neg", UnaryOp::Neg).value("exp", UnaryOp::Exp).value("log", UnaryOp::Log)
      .value("sqrt", UnaryOp::Sqrt).value("abs", UnaryOp::Abs).value("tanh", UnaryOp::Tanh)
      .value("sigmoid", UnaryOp::Sigmoid).value("relu", UnaryOp::Relu).value("sign", UnaryOp::Sign)
      .value("square", UnaryOp::Square).value("reciprocal", UnaryOp::Reciprocal).value("sin", UnaryOp::Sin)
      .value("cos", UnaryOp::Cos).value("floor", UnaryOp::Floor).value("ceil", UnaryOp::Ceil)
      .value("round", UnaryOp::Round).value("log1p", UnaryOp::Log1p).value("expm1", UnaryOp::Expm1)
      .value("erf", UnaryOp::Erf).value("erfinv", UnaryOp::Erfinv);
  py::enum_<BinaryOp>(m, "BinaryOp")
      .value("add", BinaryOp::Add).value("sub", BinaryOp::Sub).value("mul", BinaryOp::Mul)
      .value("div", BinaryOp::Div).value("pow", BinaryOp::Pow).value("maximum", BinaryOp::Maximum)
      .value("minimum", BinaryOp::Minimum).value("eq", BinaryOp::Eq).value("ne", BinaryOp::Ne)
      .value("lt", BinaryOp::Lt).value("le", BinaryOp::Le).value("gt", BinaryOp::Gt).value("ge", BinaryOp::Ge)
      .value("remainder", BinaryOp::Remainder).value("fmod", BinaryOp::Fmod)
      .value("floor_divide", BinaryOp::FloorDivide);
  py::enum_<ReduceOp>(m, "ReduceOp")
      .value("sum", ReduceOp::Sum).value("mean", ReduceOp::Mean).value("max", ReduceOp::Max)
      .value("min", ReduceOp::Min);

  py::class_<NDArray>(m, "NDArray", "A typed, strided view on a CPU or CUDA buffer (the kernels' data type).")
      .def_property_readonly("shape", [](const NDArray& a) { return py::tuple(py::cast(a.shape)); })
      .def_property_readonly("strides", [](const NDArray& a) { return py::tuple(py::cast(a.strides)); })
      .def_readonly("offset", &NDArray::offset)
      .def_readonly("dtype", &NDArray::dtype)
      .def_property_readonly("device", &NDArray::device)
      .def_property_readonly("device_index", [](const NDArray& a) { return a.storage->device_index; })
      .def_property_readonly("numel", &NDArray::numel)
      .def_property_readonly("ndim", &NDArray::ndim)
      .def_property_readonly("version", [](const NDArray& a) { return a.storage->version; })
      .def_property_readonly("data_ptr", [](const NDArray& a) { return reinterpret_cast<uintptr_t>(a.raw()); })
      .def_property_readonly("storage_nbytes", [](const NDArray& a) { return a.storage->nbytes; })
      // How many arrays share this one's buffer (views, aliases): 1 means no other array can see it.
      .def_property_readonly("storage_use_count", [](const NDArray& a) { return a.storage.use_count(); })
      .def("is_contiguous", &NDArray::is_contiguous)
      .def("bump_version", &NDArray::bump_version)
      .def("shares_storage", [](const NDArray& a, const NDArray& b) { return a.storage == b.storage; })
      // How a write into this array meets a read of `other` (common/overlap.h): "none", "full" (the same
      // elements), "partial" (both dense, meeting at other indices) or "interleaved".
      .def("overlap", [](const NDArray& a, const NDArray& b) { return overlap_name(overlap_of(a, b)); },
           py::arg("other"))
      // True when two indices reach one memory location (an expanded view).
      .def("has_internal_overlap", [](const NDArray& a) { return has_internal_overlap(a); })
      .def("__repr__", [](const NDArray& a) { return "<NDArray " + describe(a) + ">"; });

  m.def("from_numpy", &from_numpy, py::arg("array"));
  m.def("to_numpy", &to_numpy, py::arg("a"));
  m.def("item", &item, py::arg("a"));
  m.def("view", &make_view, py::arg("a"), py::arg("shape"), py::arg("strides"), py::arg("offset"),
        "A view on a's storage; raises if it would reach outside it.");

  bindings::bind_memory(m);
  bindings::bind_elementwise(m);
  bindings::bind_reduce(m);
  bindings::bind_activation(m);
  bindings::bind_matmul(m);
  bindings::bind_linear(m);
  bindings::bind_conv(m);
  bindings::bind_pool(m);
  bindings::bind_loss(m);
  bindings::bind_dropout(m);
  bindings::bind_random(m);
  bindings::bind_optim(m);
  bindings::bind_index(m);
  bindings::bind_sort(m);
  bindings::bind_scan(m);
  bindings::bind_recurrent(m);

  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
#ifdef _OPENMP
  m.attr("has_openmp") = true;
#else
  m.attr("has_openmp") = false;
#endif

  // Which kernels run: the capability picked at import and the tables it selects.
  m.def("cpu_capability", []() { return cpu_isa_name(cpu_isa()); });
  m.def("cpu_capability_supported", []() { return cpu_isa_name(cpu_isa_supported()); });
  m.def("set_cpu_capability", [](const std::string& name) { set_cpu_isa(isa_from_name(name)); }, py::arg("name"));
  m.def("vec_math_name", []() { return cpu::vec::kernels<float>().isa; });
}
