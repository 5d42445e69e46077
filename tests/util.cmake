msinet_add_test(test_util SOURCES test_util_fs.cpp test_config.cpp LIBS msinet_config msinet_util yaml-cpp)
msinet_add_test(test_util_progress SOURCES test_util_progress.cpp
                LIBS msinet_util nlohmann_json::nlohmann_json)
