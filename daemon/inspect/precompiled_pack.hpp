#pragma once
// The default pack's Hyperscan databases, compiled at build time (tools/precompile_pack.cpp)
// and embedded in the binary, so that a start on the build host's CPU loads instead of
// compiling. Empty when the build did not produce them.

#include <string_view>

namespace edgeward::inspect {

// CompiledRules::serialize() of the embedded default pack in enforce mode.
std::string_view precompiled_default_pack();

}  // namespace edgeward::inspect
