# Tests of area 'browser': the page of `msinet serve` in headless Chromium (Debian's chromium
# package) driven by puppeteer-core from tests/node (npm ci --ignore-scripts, as scripts/setup.sh
# --tests does). The script starts the real server with test-made random weights; a missing
# Chromium or puppeteer-core fails the test.
add_test(NAME browser.page
  COMMAND /usr/bin/env node ${PROJECT_SOURCE_DIR}/tests/browser/page_test.mjs
          --msinet $<TARGET_FILE:msinet> --work-dir ${PROJECT_BINARY_DIR}/test-tmp
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(browser.page PROPERTIES LABELS "slow;browser" TIMEOUT 300)
