# Writes OUTPUT, a C++ file defining edgeward::rules::default_pack_yaml() over the bytes of INPUT.
# A byte array (not a raw string) so that no content of the YAML can end the literal early.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Break the initializer into lines of 16 bytes for the compiler's and the reader's sake.
string(REGEX REPLACE "((0x..,){16})" "\\1\n  " bytes "${bytes}")
file(WRITE ${OUTPUT}.tmp
"// Generated from rules/packs/default.yaml by rules/embed_pack.cmake. Do not edit.
#include <string_view>

#include \"rules/pack.hpp\"

namespace edgeward::rules {
namespace {
constexpr unsigned char kDefaultPack[${size} + 1] = {
  ${bytes}0x00};
}  // namespace

std::string_view default_pack_yaml() {
  return std::string_view(reinterpret_cast<const char*>(kDefaultPack), ${size});
}

}  // namespace edgeward::rules
")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
