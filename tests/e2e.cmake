# End-to-end tests: the real binary against an independent NumPy forward pass and test-time
# image pipeline with TensorFlow semantics (tests/tools/tf_reference_forward.py and
# tf_reference_pipeline.py, /usr/bin/python3 with NumPy).
msinet_add_test(test_e2e_reference LABEL slow TIMEOUT 600
  SOURCES test_e2e_reference.cpp
  LIBS msinet_weights ${OpenCV_LIBS})
add_dependencies(test_e2e_reference msinet)
