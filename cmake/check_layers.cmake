cmake_minimum_required(VERSION 3.18)
# Checks the layer picture (see MsinetLayers.cmake): run as
#   cmake -DMSINET_ROOT=<source tree> -DMSINET_MANIFEST=<msinet_layers.cmake> -P check_layers.cmake
# Fails, listing every offender, when the declared dependencies have a cycle, when a header under
# include/msinet belongs to no area, or when a file includes a header of an area that its own
# area does not depend on (directly or through its dependencies).
include("${MSINET_MANIFEST}")

# Header (relative to include/msinet) -> area: explicit HEADERS first, then HEADER_DIRS.
file(GLOB_RECURSE all_headers RELATIVE "${MSINET_ROOT}/include/msinet"
     "${MSINET_ROOT}/include/msinet/*.h")
set(problems "")
foreach(area IN LISTS MSINET_AREAS)
  foreach(h IN LISTS MSINET_AREA_${area}_HEADERS)
    set(owner_${h} ${area})
  endforeach()
endforeach()
foreach(h IN LISTS all_headers)
  if(NOT DEFINED owner_${h})
    get_filename_component(dir "${h}" DIRECTORY)
    foreach(area IN LISTS MSINET_AREAS)
      if(dir IN_LIST MSINET_AREA_${area}_HEADER_DIRS)
        set(owner_${h} ${area})
      endif()
    endforeach()
  endif()
  if(NOT DEFINED owner_${h} AND NOT MSINET_SOME_AREAS_ONLY)
    list(APPEND problems "include/msinet/${h} belongs to no area")
  endif()
endforeach()

# The areas each area may use: itself and everything reachable through DEPENDS. A cycle is an
# area reachable from itself.
foreach(area IN LISTS MSINET_AREAS)
  set(reach "")
  set(todo ${MSINET_AREA_${area}_DEPENDS})
  while(todo)
    list(POP_FRONT todo next)
    if(next STREQUAL area)
      list(APPEND problems "dependency cycle through area '${area}'")
      break()
    endif()
    if(NOT next IN_LIST reach)
      list(APPEND reach ${next})
      list(APPEND todo ${MSINET_AREA_${next}_DEPENDS})
    endif()
  endwhile()
  set(allowed_${area} ${area} ${reach})
endforeach()

# Every include of a msinet header from an area's sources and headers.
foreach(area IN LISTS MSINET_AREAS)
  set(files ${MSINET_AREA_${area}_FILES})
  foreach(h IN LISTS all_headers)
    if(owner_${h} STREQUAL area)
      list(APPEND files "include/msinet/${h}")
    endif()
  endforeach()
  foreach(f IN LISTS files)
    if(NOT EXISTS "${MSINET_ROOT}/${f}")
      continue()
    endif()
    file(STRINGS "${MSINET_ROOT}/${f}" lines REGEX "^[ \t]*#[ \t]*include[ \t]+\"msinet/")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE ".*\"msinet/([^\"]+)\".*" "\\1" h "${line}")
      if(NOT DEFINED owner_${h})
        list(APPEND problems "${f} includes msinet/${h}, which does not exist in any area")
      elseif(NOT owner_${h} IN_LIST allowed_${area})
        list(APPEND problems
             "${f} (area ${area}) includes msinet/${h} of area ${owner_${h}}, not a dependency")
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  list(LENGTH problems n)
  string(REPLACE ";" "\n  " listing "${problems}")
  message(FATAL_ERROR "layer check: ${n} problem(s):\n  ${listing}\n"
                      "Move the code to the right area, or change the area's DEPENDS in its "
                      "CMakeLists.txt (and the picture in README.md).")
endif()
list(LENGTH MSINET_AREAS n)
message(STATUS "layer check: ${n} areas, no cycle, every include follows the layers")
