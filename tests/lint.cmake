# Style and static checks (scripts/lint.sh): clang-format over every tracked C++ file and
# clang-tidy (.clang-tidy) over the areas that parse quickly, with this build's compile commands.
add_test(NAME lint.ClangFormat COMMAND ${PROJECT_SOURCE_DIR}/scripts/lint.sh format)
add_test(NAME lint.ClangTidy
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/lint.sh tidy ${PROJECT_BINARY_DIR})
set_tests_properties(lint.ClangFormat lint.ClangTidy PROPERTIES LABELS lint TIMEOUT 900)
