#include <gtest/gtest.h>

#include "msinet/checkpoint/container.h"
#include "msinet/util/error.h"

namespace msinet {
namespace {

checkpoint::Checkpoint sample() {
  checkpoint::Checkpoint c;
  c.model = std::string("model\0bytes\nwith newlines", 25);
  c.optimizer = "opt";
  c.meta.dataset = "osie";
  c.meta.height = 48;
  c.meta.width = 64;
  c.meta.epochs_done = 2;
  c.meta.step_in_epoch = 3;
  c.meta.partial_train_sum = 1.25;
  c.meta.best_valid = 0.123456789012345;
  c.meta.train_history = {1.5, 0.75};
  c.meta.valid_history = {1.0, 0.123456789012345};
  return c;
}

TEST(Checkpoint, RoundTripKeepsEveryField) {
  const auto c = sample();
  const auto d = checkpoint::decode_checkpoint(checkpoint::encode_checkpoint(c), "x");
  EXPECT_EQ(d.model, c.model);
  EXPECT_EQ(d.optimizer, c.optimizer);
  EXPECT_EQ(d.meta.dataset, "osie");
  EXPECT_EQ(d.meta.height, 48);
  EXPECT_EQ(d.meta.width, 64);
  EXPECT_EQ(d.meta.epochs_done, 2);
  EXPECT_EQ(d.meta.step_in_epoch, 3);
  EXPECT_EQ(d.meta.partial_train_sum, 1.25);
  EXPECT_EQ(d.meta.best_valid, c.meta.best_valid);  // 17 significant digits survive
  EXPECT_EQ(d.meta.train_history, c.meta.train_history);
  EXPECT_EQ(d.meta.valid_history, c.meta.valid_history);
}

TEST(Checkpoint, EveryTruncationIsAWeightsErrorNamingTheFile) {
  const std::string bytes = checkpoint::encode_checkpoint(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    try {
      checkpoint::decode_checkpoint(bytes.substr(0, n), "ckpt.msinet");
      FAIL() << "truncated at " << n << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kWeights);
      EXPECT_NE(std::string(e.what()).find("ckpt.msinet"), std::string::npos);
    }
  }
}

TEST(Checkpoint, ForeignBytesAreRejected) {
  EXPECT_THROW(checkpoint::decode_checkpoint("PK\x03\x04 not a checkpoint", "a.zip"), Error);
}

}  // namespace
}  // namespace msinet
