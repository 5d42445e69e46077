msinet_add_test(test_jobs SOURCES test_train_checkpoint.cpp test_train_loss.cpp LIBS msinet_engine)
msinet_torch_pch(test_jobs)
msinet_add_test(test_smoke LABEL smoke TIMEOUT 600 SOURCES test_cli_smoke.cpp LIBS ${OpenCV_LIBS})
add_dependencies(test_smoke msinet)
msinet_add_test(test_published LABEL smoke TIMEOUT 600 SOURCES test_cli_published.cpp
                LIBS msinet_core msinet_weights ${OpenCV_LIBS})
msinet_torch_pch(test_published)
add_dependencies(test_published msinet)
