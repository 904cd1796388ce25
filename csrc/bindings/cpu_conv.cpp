#include "bindings/cpu_families.h"

namespace deepcore::bindings {

void bind_conv(pybind11::module_& m) { (void)m; }

}  // namespace deepcore::bindings
