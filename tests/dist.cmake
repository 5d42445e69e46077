# Tests of area 'dist' (see tests/CMakeLists.txt for msinet_add_test): the process group and
# gradient sums with ranks as threads on loopback ports, and the launcher driving
# tools/dist_rank_main (a rank program built for the tests only).
add_executable(dist_rank_main tools/dist_rank_main.cpp)
target_link_libraries(dist_rank_main PRIVATE msinet_dist)
msinet_target_defaults(dist_rank_main)
msinet_torch_pch(dist_rank_main)
msinet_add_test(test_dist LABEL unit TIMEOUT 120
  SOURCES
    test_dist_gradient_sync.cpp
    test_dist_group.cpp
    test_dist_launcher.cpp
  LIBS msinet_dist)
msinet_torch_pch(test_dist)
target_compile_definitions(test_dist PRIVATE DIST_RANK_MAIN="$<TARGET_FILE:dist_rank_main>")
add_dependencies(test_dist dist_rank_main)
