# Tests of area 'fetch' (see tests/CMakeLists.txt for msinet_add_test).
# The download tests start tests/tools/http_server.py (/usr/bin/python3) on a loopback port.
msinet_add_test(test_data_download LABEL unit SOURCES test_data_download.cpp LIBS msinet_fetch)
msinet_add_test(test_data_archive LABEL unit SOURCES test_data_archive.cpp LIBS msinet_fetch)
msinet_add_test(test_fetch_progress LABEL unit SOURCES test_fetch_progress.cpp
                LIBS msinet_fetch nlohmann_json::nlohmann_json)
