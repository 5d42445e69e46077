cmake_minimum_required(VERSION 3.18)
# Proves that cmake/check_layers.cmake fails where it must: on a tiny tree made here with two
# areas (low, and high that depends on low) it passes while includes go downwards, and fails,
# naming the file, when low includes high, and when the declared dependencies form a cycle.
#   cmake -DMSINET_SOURCE_DIR=<repo> -DSCRATCH=<folder> -P check_layers_catches.cmake
file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}/include/msinet/low" "${SCRATCH}/include/msinet/high"
     "${SCRATCH}/src/low" "${SCRATCH}/src/high")
file(WRITE "${SCRATCH}/include/msinet/low/low.h" "#pragma once\n")
file(WRITE "${SCRATCH}/include/msinet/high/high.h" "#pragma once\n#include \"msinet/low/low.h\"\n")
file(WRITE "${SCRATCH}/src/high/high.cpp" "#include \"msinet/high/high.h\"\n")

function(write_manifest low_depends high_depends)
  file(WRITE "${SCRATCH}/manifest.cmake" "set(MSINET_AREAS \"low;high\")
set(MSINET_AREA_low_DEPENDS \"${low_depends}\")
set(MSINET_AREA_low_FILES \"src/low/low.cpp\")
set(MSINET_AREA_low_HEADER_DIRS \"low\")
set(MSINET_AREA_low_HEADERS \"\")
set(MSINET_AREA_high_DEPENDS \"${high_depends}\")
set(MSINET_AREA_high_FILES \"src/high/high.cpp\")
set(MSINET_AREA_high_HEADER_DIRS \"high\")
set(MSINET_AREA_high_HEADERS \"\")
")
endfunction()

function(run_check expect_ok expected_text what)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DMSINET_ROOT=${SCRATCH} -DMSINET_MANIFEST=${SCRATCH}/manifest.cmake
            -P ${MSINET_SOURCE_DIR}/cmake/check_layers.cmake
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(all "${out}${err}")
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${what}: the check failed on a tree that follows the layers:\n${all}")
  endif()
  if(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "${what}: the check passed a tree that breaks the layers:\n${all}")
  endif()
  string(FIND "${all}" "${expected_text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what}: expected '${expected_text}' in:\n${all}")
  endif()
  message(STATUS "${what}: as expected")
endfunction()

file(WRITE "${SCRATCH}/src/low/low.cpp" "#include \"msinet/low/low.h\"\n")
write_manifest("" "low")
run_check(TRUE "no cycle, every include follows the layers" "downward includes")

file(WRITE "${SCRATCH}/src/low/low.cpp" "#include \"msinet/low/low.h\"\n#include \"msinet/high/high.h\"\n")
run_check(FALSE "src/low/low.cpp (area low) includes msinet/high/high.h of area high"
          "an upward include")

file(WRITE "${SCRATCH}/src/low/low.cpp" "#include \"msinet/low/low.h\"\n")
write_manifest("high" "low")
run_check(FALSE "dependency cycle through area 'low'" "a cycle")

file(WRITE "${SCRATCH}/include/msinet/stray.h" "#pragma once\n")
write_manifest("" "low")
run_check(FALSE "include/msinet/stray.h belongs to no area" "a header of no area")
