// Fuzz target: the Google Drive confirmation page scanner (drive_confirmation_url).
#include "msinet/fetch/drive_page.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string html(reinterpret_cast<const char*>(data), size);
  msinet::fuzz::expect_clean([&] {
    msinet::fetch::drive_confirmation_url(
        html, "https://drive.google.com/uc?export=download&id=0B2hsWbciDVedS1BtVDBtM0l1ZXc");
  });
  return 0;
}
