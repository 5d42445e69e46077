# Tests of area 'plot' (see tests/CMakeLists.txt for msinet_add_test).
msinet_add_test(test_plot LABEL unit SOURCES test_plot_chart.cpp LIBS msinet_plot)
