# Tests of area 'calibration' (see tests/CMakeLists.txt for msinet_add_test); the NumPy/SciPy
# cross-check runs tests/tools/calibration_reference.py with /usr/bin/python3.
msinet_add_test(test_calibration LABEL unit SOURCES test_calibration.cpp
                LIBS msinet_calibration msinet_eval)
# `test --output density|logdensity` and `calibrate`: the command line in process, and once
# through the binary.
msinet_add_test(test_cli_calibration LABEL smoke TIMEOUT 600 SOURCES test_cli_calibration.cpp
                LIBS msinet_cli msinet_bench msinet_calibration msinet_eval ${OpenCV_LIBS})
add_dependencies(test_cli_calibration msinet)
