# Finds every dependency and stops early, naming the Debian package, when one is missing.
set(MSINET_MIN_TORCH_VERSION 1.13)

function(msinet_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "msinet needs ${what}. On Debian 12: apt-get install ${package} "
                        "(or run scripts/setup.sh, which installs everything).")
  endif()
endfunction()

# The fuzz build (MSINET_FUZZ) reads no model: no LibTorch (block not indented).
if(NOT MSINET_FUZZ)
find_package(Torch QUIET)
msinet_require(Torch_FOUND "LibTorch >= ${MSINET_MIN_TORCH_VERSION}" "libtorch-dev")
# LibTorch's package config exposes no version on every release; read it from the headers.
find_file(MSINET_TORCH_VERSION_H torch/csrc/api/include/torch/version.h
          HINTS ${TORCH_INCLUDE_DIRS} NO_DEFAULT_PATH)
if(NOT MSINET_TORCH_VERSION_H)
  find_file(MSINET_TORCH_VERSION_H torch/version.h HINTS ${TORCH_INCLUDE_DIRS})
endif()
if(MSINET_TORCH_VERSION_H)
  file(STRINGS "${MSINET_TORCH_VERSION_H}" _tv REGEX "#define TORCH_VERSION_(MAJOR|MINOR) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*" "\\1" _major "${_tv}")
  string(REGEX REPLACE ".*MINOR ([0-9]+).*" "\\1" _minor "${_tv}")
  set(MSINET_TORCH_VERSION "${_major}.${_minor}")
  if(MSINET_TORCH_VERSION VERSION_LESS MSINET_MIN_TORCH_VERSION)
    message(FATAL_ERROR "msinet needs LibTorch >= ${MSINET_MIN_TORCH_VERSION}; found "
                        "${MSINET_TORCH_VERSION} (${MSINET_TORCH_VERSION_H}).")
  endif()
  message(STATUS "LibTorch ${MSINET_TORCH_VERSION}")
endif()
# TORCH_LIBRARIES carries the include directories; mark them SYSTEM for quiet warnings.
add_library(msinet_torch INTERFACE)
target_link_libraries(msinet_torch INTERFACE ${TORCH_LIBRARIES})
target_include_directories(msinet_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
# oneDNN itself (Debian's is the one its LibTorch links): the runtime's own convolution plans,
# the GEMMs of its Winograd kernels and int8 inference. Found by its header and library: the
# package's own CMake configuration also demands the OpenCL headers of its GPU runtime, which
# msinet does not use.
find_path(MSINET_DNNL_INCLUDE_DIR oneapi/dnnl/dnnl.hpp)
find_library(MSINET_DNNL_LIBRARY dnnl)
if(MSINET_DNNL_INCLUDE_DIR AND MSINET_DNNL_LIBRARY)
  set(MSINET_DNNL_FOUND TRUE)
endif()
msinet_require(MSINET_DNNL_FOUND "oneDNN" "libdnnl-dev")
if(NOT TARGET DNNL::dnnl)
  add_library(DNNL::dnnl UNKNOWN IMPORTED)
  set_target_properties(DNNL::dnnl PROPERTIES IMPORTED_LOCATION "${MSINET_DNNL_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${MSINET_DNNL_INCLUDE_DIR}")
endif()
endif()

if(NOT MSINET_CORE_ONLY)
  find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs videoio highgui)
  msinet_require(OpenCV_FOUND "OpenCV (core, imgproc, imgcodecs, videoio, highgui)"
                 "libopencv-dev")
  # Only the video library (src/data/video.cmake) links videoio and highgui, by name.
  set(OpenCV_LIBS opencv_core opencv_imgproc opencv_imgcodecs)
  find_package(CLI11 QUIET)
  msinet_require(CLI11_FOUND "CLI11" "libcli11-dev")
  find_package(yaml-cpp QUIET)
  msinet_require(yaml-cpp_FOUND "yaml-cpp" "libyaml-cpp-dev")
  find_package(spdlog QUIET)
  msinet_require(spdlog_FOUND "spdlog" "libspdlog-dev")
  find_package(CURL QUIET)
  msinet_require(CURL_FOUND "libcurl" "libcurl4-openssl-dev")
  find_package(Snappy QUIET)
  msinet_require(Snappy_FOUND "Snappy" "libsnappy-dev")
  find_package(nlohmann_json 3.2 QUIET)
  msinet_require(nlohmann_json_FOUND "nlohmann-json >= 3.2" "nlohmann-json3-dev")
  if(MSINET_FUZZ)
    find_package(Protobuf QUIET)  # onnx_proto's dependency, otherwise found through LibTorch
  endif()
  find_package(ONNX QUIET CONFIG)
  msinet_require(ONNX_FOUND "the ONNX library" "libonnx-dev")
  find_package(PNG QUIET)
  msinet_require(PNG_FOUND "libpng" "libpng-dev")
  find_package(ZLIB QUIET)
  msinet_require(ZLIB_FOUND "zlib" "zlib1g-dev")
  find_package(PkgConfig QUIET)
  msinet_require(PkgConfig_FOUND "pkg-config" "pkg-config")
  pkg_check_modules(LIBZIP QUIET IMPORTED_TARGET libzip)
  msinet_require(LIBZIP_FOUND "libzip" "libzip-dev")
  pkg_check_modules(MATIO QUIET IMPORTED_TARGET matio)
  msinet_require(MATIO_FOUND "matio" "libmatio-dev")
  # Debian's cpp-httplib is a compiled library; its pkg-config file carries the feature macros
  # the library was built with, which the header must see alike.
  pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
  msinet_require(HTTPLIB_FOUND "cpp-httplib" "libcpp-httplib-dev")
  # LEMON's network simplex: the exact transport of the EMD metric (msinet_eval only).
  find_path(LEMON_INCLUDE_DIR lemon/network_simplex.h)
  find_library(LEMON_LIBRARY NAMES lemon)
  if(LEMON_INCLUDE_DIR AND LEMON_LIBRARY)
    set(LEMON_FOUND TRUE)
  endif()
  msinet_require(LEMON_FOUND "LEMON (lemon/network_simplex.h and its library)" "liblemon-dev")
  find_package(Threads REQUIRED)
endif()

if(MSINET_BUILD_TESTS AND NOT MSINET_FUZZ)
  find_package(GTest QUIET)
  msinet_require(GTest_FOUND "GoogleTest" "googletest libgtest-dev")
endif()
