#include "daemon/inspect/precompiled_pack.hpp"

// The bytes are pulled in by the assembler (.incbin), which is far faster than compiling a
// multi-megabyte array literal. EDGEWARD_PRECOMPILED_PACK names the file (set by CMake).
#ifdef EDGEWARD_PRECOMPILED_PACK
#define EDGEWARD_STR2(x) #x
#define EDGEWARD_STR(x) EDGEWARD_STR2(x)
asm(".section .rodata\n"
    ".balign 64\n"
    ".global edgeward_precompiled_pack_begin\n"
    "edgeward_precompiled_pack_begin:\n"
    ".incbin \"" EDGEWARD_STR(EDGEWARD_PRECOMPILED_PACK) "\"\n"
    ".global edgeward_precompiled_pack_end\n"
    "edgeward_precompiled_pack_end:\n"
    ".previous\n");
extern "C" const char edgeward_precompiled_pack_begin[];
extern "C" const char edgeward_precompiled_pack_end[];
#endif

namespace edgeward::inspect {

std::string_view precompiled_default_pack() {
#ifdef EDGEWARD_PRECOMPILED_PACK
  return std::string_view(
      edgeward_precompiled_pack_begin,
      static_cast<std::size_t>(edgeward_precompiled_pack_end - edgeward_precompiled_pack_begin));
#else
  return {};
#endif
}

}  // namespace edgeward::inspect
