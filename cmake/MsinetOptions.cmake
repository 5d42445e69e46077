# Warnings, ccache and sanitizers, applied per target through msinet_target_defaults().
if(MSINET_USE_CCACHE)
  find_program(MSINET_CCACHE ccache)
  if(MSINET_CCACHE)
    # Paths relative to the source tree, so that every clone and build folder shares the cache;
    # the sloppiness lets ccache cache the translation units that use the precompiled header.
    set(CMAKE_CXX_COMPILER_LAUNCHER
        "${CMAKE_COMMAND}" -E env "CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}"
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "${MSINET_CCACHE}")
  endif()
endif()

function(msinet_target_defaults target)
  target_compile_options(${target} PRIVATE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wno-unused-parameter>)
  if(MSINET_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

# Precompiled LibTorch header for targets whose sources include LibTorch: made once, by
# msinet_core, and reused by every other such target.
function(msinet_torch_pch target)
  if(NOT MSINET_USE_PCH)
    return()
  endif()
  if(target STREQUAL "msinet_core")
    target_precompile_headers(${target} PRIVATE <torch/torch.h>)
  else()
    target_precompile_headers(${target} REUSE_FROM msinet_core)
  endif()
endfunction()
