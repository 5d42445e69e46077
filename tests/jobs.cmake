# Tests of areas 'checkpoint' and 'train', and of the binary (see tests/CMakeLists.txt).
msinet_add_test(test_checkpoint LABEL unit
  SOURCES
    test_checkpoint_container.cpp
    test_checkpoint_state.cpp
    test_checkpoint_tf_names.cpp
    test_model_net.cpp
  LIBS msinet_checkpoint)
msinet_torch_pch(test_checkpoint)
msinet_add_test(test_jobs SOURCES test_train_loss.cpp test_train_shards.cpp test_train_plot.cpp
                LIBS msinet_train)
msinet_torch_pch(test_jobs)
# The training step's parts: the batch loader and mixed precision.
msinet_add_test(test_train_step SOURCES test_train_loader.cpp test_train_mixed_precision.cpp
                LIBS msinet_train)
msinet_torch_pch(test_train_step)
msinet_add_test(test_smoke LABEL smoke TIMEOUT 600 SOURCES test_cli_smoke.cpp LIBS ${OpenCV_LIBS})
add_dependencies(test_smoke msinet)
msinet_add_test(test_cli_outputs LABEL smoke TIMEOUT 600 SOURCES test_cli_outputs.cpp
                LIBS msinet_bench ${OpenCV_LIBS})
msinet_torch_pch(test_cli_outputs)
add_dependencies(test_cli_outputs msinet)
msinet_add_test(test_cli_eval_dataset LABEL smoke TIMEOUT 600 SOURCES test_cli_eval_dataset.cpp
                LIBS msinet_bench msinet_eval ${OpenCV_LIBS})
msinet_torch_pch(test_cli_eval_dataset)
add_dependencies(test_cli_eval_dataset msinet)
msinet_add_test(test_published LABEL smoke TIMEOUT 600 SOURCES test_cli_published.cpp
                LIBS msinet_checkpoint ${OpenCV_LIBS})
msinet_torch_pch(test_published)
add_dependencies(test_published msinet)
# The layer check: the real tree passes, and a tree with an include against the layers or a
# dependency cycle fails.
add_test(NAME layers.RealTreeFollowsTheLayers
  COMMAND ${CMAKE_COMMAND} -DMSINET_ROOT=${PROJECT_SOURCE_DIR}
          -DMSINET_MANIFEST=${PROJECT_BINARY_DIR}/msinet_layers.cmake
          -P ${PROJECT_SOURCE_DIR}/cmake/check_layers.cmake)
add_test(NAME layers.ViolationsAreCaught
  COMMAND ${CMAKE_COMMAND} -DMSINET_SOURCE_DIR=${PROJECT_SOURCE_DIR}
          -DSCRATCH=${CMAKE_CURRENT_BINARY_DIR}/layers_check
          -P ${PROJECT_SOURCE_DIR}/tests/tools/check_layers_catches.cmake)
set_tests_properties(layers.RealTreeFollowsTheLayers layers.ViolationsAreCaught
                     PROPERTIES LABELS unit)
# Training proofs through the binary: it learns, resumes bit for bit, survives kill -9, stops on a
# non-finite loss and on signals as documented.
msinet_add_test(test_train_proofs LABEL slow TIMEOUT 900 SOURCES test_train_proofs.cpp
                LIBS msinet_checkpoint ${OpenCV_LIBS})
msinet_torch_pch(test_train_proofs)
add_dependencies(test_train_proofs msinet)
# Data-parallel training through the binary (Gloo on loopback): the same steps as one process,
# accumulation, resume on another number of ranks, a rank that dies or hangs, Ctrl-C, bad
# rendezvous settings.
if(MSINET_DISTRIBUTED)
  msinet_add_test(test_train_distributed LABEL slow TIMEOUT 900 SOURCES test_train_distributed.cpp
                  LIBS msinet_checkpoint ${OpenCV_LIBS})
  msinet_torch_pch(test_train_distributed)
  add_dependencies(test_train_distributed msinet)
else()
  message(WARNING "msinet: no distributed training in this build (libgloo-dev missing): "
                  "test_train_distributed is not built, so data-parallel training is NOT tested")
endif()
# `msinet test` on videos and cameras through the binary, and the video writers in process; the
# checks that run the binary several times are label slow.
msinet_add_test(test_infer_video LABEL smoke TIMEOUT 600 SOURCES test_infer_video.cpp
                LIBS msinet_bench msinet_video opencv_videoio ${OpenCV_LIBS})
add_dependencies(test_infer_video msinet)
msinet_add_test(test_infer_video_slow LABEL slow TIMEOUT 900 SOURCES test_infer_video_slow.cpp
                LIBS msinet_bench opencv_videoio ${OpenCV_LIBS})
add_dependencies(test_infer_video_slow msinet)
# The help, the README, the completion script and the man page against each other.
msinet_add_test(test_cli_help LABEL smoke SOURCES test_cli_help.cpp)
add_dependencies(test_cli_help msinet msinet_completion)
if(MSINET_HELP2MAN)
  add_dependencies(test_cli_help msinet_man)
  target_compile_definitions(test_cli_help PRIVATE MSINET_HAVE_HELP2MAN)
endif()
# What train and download check before a download, their --dry-run plans, and test's warning for
# a checkpoint run at another size, through the binary.
msinet_add_test(test_cli_preflight LABEL smoke TIMEOUT 600 SOURCES test_cli_preflight.cpp
                LIBS msinet_util ${OpenCV_LIBS})
add_dependencies(test_cli_preflight msinet)
# The log of the binary: progress lines in a file, JSON lines, -v, the run's ETA, eval's files.
msinet_add_test(test_cli_logs LABEL smoke TIMEOUT 600 SOURCES test_cli_logs.cpp
                LIBS msinet_bench nlohmann_json::nlohmann_json ${OpenCV_LIBS})
msinet_torch_pch(test_cli_logs)
add_dependencies(test_cli_logs msinet)
msinet_add_test(test_runtime_plans LABEL unit SOURCES test_runtime_plans.cpp
                LIBS msinet_bench msinet_pipeline ${OpenCV_LIBS})
msinet_torch_pch(test_runtime_plans)
msinet_add_test(test_int8_calibration LABEL unit SOURCES test_int8_calibration.cpp
                LIBS msinet_bench msinet_pipeline ${OpenCV_LIBS})
msinet_torch_pch(test_int8_calibration)
