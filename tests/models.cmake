# `msinet models` through the binary, against tests/tools/http_server.py (/usr/bin/python3) on
# loopback (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_cli_models LABEL smoke TIMEOUT 600 SOURCES test_cli_models.cpp
                LIBS msinet_checkpoint)
msinet_torch_pch(test_cli_models)
add_dependencies(test_cli_models msinet)
