#pragma once
// The product version, from the project() version in CMakeLists.txt.

#include <string_view>

namespace edgeward {

// "0.1.0": reported by `edgewardd --version`, `/status` and enrollment.
std::string_view version();

}  // namespace edgeward
