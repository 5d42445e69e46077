// Fuzz target: PNG/JPEG decoding as `msinet test` reads stimuli (3 channels) and training
// reads maps (1 channel): decode_image_bytes.
#include "msinet/data/image.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int channels : {3, 1}) {
    msinet::fuzz::expect_clean(
        [&] { msinet::data::decode_image_bytes(bytes, channels, "fuzz.img"); });
  }
  return 0;
}
