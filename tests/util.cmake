msinet_add_test(test_util SOURCES test_util_fs.cpp test_config.cpp LIBS msinet_config msinet_util yaml-cpp)
