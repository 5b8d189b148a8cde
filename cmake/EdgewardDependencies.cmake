# Every dependency comes from a Debian 12 package; scripts/install-deps.sh installs them.
# A missing one stops configure with the name of the package to install.
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: install the Debian package 'pkg-config' (or run scripts/install-deps.sh)")
endif()

function(edgeward_require_pkg target module package)
  pkg_check_modules(${target} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${target}_FOUND)
    message(FATAL_ERROR "${module} not found: install the Debian package '${package}' (or run scripts/install-deps.sh)")
  endif()
endfunction()

edgeward_require_pkg(EW_UV libuv libuv1-dev)
edgeward_require_pkg(EW_HS libhs libhyperscan-dev)
edgeward_require_pkg(EW_SQLITE sqlite3 libsqlite3-dev)
edgeward_require_pkg(EW_SODIUM libsodium libsodium-dev)
edgeward_require_pkg(EW_YAML yaml-cpp libyaml-cpp-dev)
edgeward_require_pkg(EW_SSL openssl libssl-dev)
edgeward_require_pkg(EW_SIMDJSON simdjson libsimdjson-dev)
edgeward_require_pkg(EW_SYSTEMD libsystemd libsystemd-dev)

add_library(edgeward::uv ALIAS PkgConfig::EW_UV)
add_library(edgeward::hyperscan ALIAS PkgConfig::EW_HS)
add_library(edgeward::sqlite ALIAS PkgConfig::EW_SQLITE)
add_library(edgeward::sodium ALIAS PkgConfig::EW_SODIUM)
add_library(edgeward::yaml ALIAS PkgConfig::EW_YAML)
add_library(edgeward::openssl ALIAS PkgConfig::EW_SSL)
add_library(edgeward::simdjson ALIAS PkgConfig::EW_SIMDJSON)
add_library(edgeward::systemd ALIAS PkgConfig::EW_SYSTEMD)

find_package(Threads REQUIRED)

if(EDGEWARD_BUILD_TESTS)
  find_package(Catch2 2 QUIET)
  if(NOT Catch2_FOUND)
    message(FATAL_ERROR "Catch2 v2 not found: install the Debian package 'catch2' (or run scripts/install-deps.sh)")
  endif()
  include(Catch)
endif()

# llhttp: Debian's node-llhttp ships the generated C sources; we build them into a static library.
set(EDGEWARD_LLHTTP_SRC_DIR /usr/share/llhttp CACHE PATH "llhttp C sources (node-llhttp)")
set(EDGEWARD_LLHTTP_INCLUDE_DIR /usr/share/include/llhttp CACHE PATH "llhttp header (node-llhttp)")
foreach(f llhttp.c api.c http.c)
  if(NOT EXISTS ${EDGEWARD_LLHTTP_SRC_DIR}/${f})
    message(FATAL_ERROR "llhttp source ${EDGEWARD_LLHTTP_SRC_DIR}/${f} not found: install the Debian package 'node-llhttp' (or run scripts/install-deps.sh)")
  endif()
endforeach()
if(NOT EXISTS ${EDGEWARD_LLHTTP_INCLUDE_DIR}/llhttp.h)
  message(FATAL_ERROR "llhttp.h not found in ${EDGEWARD_LLHTTP_INCLUDE_DIR}: install the Debian package 'node-llhttp'")
endif()
add_library(edgeward_llhttp STATIC
  ${EDGEWARD_LLHTTP_SRC_DIR}/llhttp.c
  ${EDGEWARD_LLHTTP_SRC_DIR}/api.c
  ${EDGEWARD_LLHTTP_SRC_DIR}/http.c)
target_include_directories(edgeward_llhttp SYSTEM PUBLIC ${EDGEWARD_LLHTTP_INCLUDE_DIR})
set_target_properties(edgeward_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON C_STANDARD 99)
# Third-party code: not held to our warning flags.
target_compile_options(edgeward_llhttp PRIVATE -w)
add_library(edgeward::llhttp ALIAS edgeward_llhttp)
