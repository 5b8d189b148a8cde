# Flags for our own code: warnings are errors. Third-party code does not go through this.
function(edgeward_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wpedantic
    -Wno-missing-field-initializers)
  # GCC 12 at -O3 (a Release build) reports -Wrestrict inside libstdc++'s inlined string
  # concatenation (`"x" + std::string`), a known false positive (Catch2 #2522, dyninst #1422
  # hit the same): the default RelWithDebInfo (-O2) never sees it, and Release failed in
  # proxy.cpp and validators.cpp on concatenations that are correct.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# A Catch2 test binary for one library: sources, links, and one ctest entry per test case.
# Usage: edgeward_add_test(NAME core_tests SOURCES a_test.cpp b_test.cpp LINKS edgeward_core)
function(edgeward_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LINKS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  edgeward_target_defaults(${T_NAME})
  target_link_libraries(${T_NAME} PRIVATE edgeward_catch_main ${T_LINKS})
  # --warn NoTests: a ctest entry whose filter matches no test case fails instead of passing
  # vacuously (a ';' in a TEST_CASE name would otherwise split it into filters that match nothing).
  catch_discover_tests(${T_NAME}
    EXTRA_ARGS --warn NoTests
    TEST_PREFIX "${T_NAME}: "
    PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    DISCOVERY_TIMEOUT 60)
endfunction()
