# Tests of area 'weights' (see tests/CMakeLists.txt for msinet_add_test).
# Reference values for TF.js and GraphDef contents come from tests/tools/weights_reference.py
# (/usr/bin/python3 with NumPy).
msinet_add_test(test_weights LABEL unit
  SOURCES
    test_weights_corruption.cpp
    test_weights_fixtures.cpp
    test_weights_formats.cpp
  LIBS msinet_weights nlohmann_json::nlohmann_json)

# The round trip runs the network, so it needs LibTorch (msinet_core).
msinet_add_test(test_weights_roundtrip LABEL unit
  SOURCES test_weights_roundtrip.cpp
  LIBS msinet_checkpoint)

# Download on first use, against tests/tools/http_server.py (/usr/bin/python3) on loopback.
msinet_add_test(test_weights_published LABEL unit
  SOURCES test_weights_published.cpp
  LIBS msinet_weights msinet_fetch)
