# Tests of area 'datasets' (see tests/CMakeLists.txt for msinet_add_test).
# Expected values come from numpy/scipy/h5py through /usr/bin/python3 (python3-h5py for the
# MATLAB v7.3 files) and from tests/tools/make_dataset_archives.py; the recipe tests serve
# archives through tests/tools/http_server.py on a loopback port.
msinet_add_test(test_data_blur LABEL unit SOURCES test_data_blur.cpp LIBS msinet_datasets)
msinet_add_test(test_data_splits LABEL unit SOURCES test_data_splits.cpp LIBS msinet_datasets)
msinet_add_test(test_data_matfile LABEL unit SOURCES test_data_matfile.cpp LIBS msinet_datasets)
msinet_add_test(test_data_recipes LABEL unit SOURCES test_data_recipes.cpp LIBS msinet_datasets)
msinet_add_test(test_data_osie LABEL unit SOURCES test_data_osie.cpp LIBS msinet_datasets)
# `msinet download` and dataset files through the binary: exit codes, messages, files left.
msinet_add_test(test_cli_download LABEL unit SOURCES test_cli_download.cpp LIBS msinet_util)
add_dependencies(test_cli_download msinet)
