#include "core/version.hpp"

namespace edgeward {

std::string_view version() { return EDGEWARD_VERSION_STRING; }

}  // namespace edgeward
