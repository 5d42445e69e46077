#include <gtest/gtest.h>

#include "msinet/checkpoint/container.h"
#include "msinet/util/error.h"
#include "test_support.h"

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

// "123456789" is the CRC32C check value's input: its CRC32C is 0xe3069283 (RFC 3720, B.4).
TEST(Checkpoint, EverySectionHeaderCarriesTheCrc32cOfItsBytes) {
  checkpoint::Checkpoint c = sample();
  c.model = "123456789";
  const std::string bytes = checkpoint::encode_checkpoint(c);
  EXPECT_EQ(bytes.rfind("MSINET-CHECKPOINT 2\n", 0), 0u);
  EXPECT_NE(bytes.find("\nmodel 9 e3069283\n123456789\n"), std::string::npos) << bytes;
}

TEST(Checkpoint, EveryFlippedBitInASectionIsCaught) {
  const std::string bytes = checkpoint::encode_checkpoint(sample());
  const size_t header = bytes.find("\nmodel ");
  ASSERT_NE(header, std::string::npos);
  const size_t model_start = bytes.find('\n', header + 1) + 1;
  ASSERT_EQ(bytes.compare(model_start, 5, "model"), 0);
  for (size_t i = model_start; i < model_start + 25; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      try {
        checkpoint::decode_checkpoint(damaged, "ckpt.msinet");
        FAIL() << "bit " << bit << " of byte " << i << " flipped was accepted";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kWeights);
        EXPECT_NE(std::string(e.what()).find("section 'model' fails its CRC32C check"),
                  std::string::npos)
            << e.what();
      }
    }
  }
}

// msinet 0.1 wrote version 1, without checksums; those files still load.
TEST(Checkpoint, VersionOneFilesWithoutChecksumsStillLoad) {
  const std::string meta =
      "dataset: salicon\nheight: 48\nwidth: 64\nepochs_done: 1\nstep_in_epoch: 0\n"
      "partial_train_sum: 0\nbest_valid: 0.5\nseed: 7\ntrain_history: [0.75]\n"
      "valid_history: [0.5]";
  const std::string bytes = "MSINET-CHECKPOINT 1\nmeta " + std::to_string(meta.size()) + "\n" +
                            meta + "\nmodel 3\nabc\nend\n";
  const auto d = checkpoint::decode_checkpoint(bytes, "old.msinet");
  EXPECT_EQ(d.model, "abc");
  EXPECT_EQ(d.meta.dataset, "salicon");
  EXPECT_EQ(d.meta.seed, 7u);
  EXPECT_EQ(d.meta.valid_history, std::vector<double>{0.5});
}

TEST(Checkpoint, ForeignBytesAreRejected) {
  EXPECT_THROW(checkpoint::decode_checkpoint("PK\x03\x04 not a checkpoint", "a.zip"), Error);
}

// The metadata alone: read from the first section, so a file cut after it still gives it; its own
// damage is caught (CRC32C), and version 1 files are read too.
TEST(Checkpoint, MetadataIsReadWithoutTheWeights) {
  testing::TempDir dir("ckpt-meta");
  const std::string bytes = checkpoint::encode_checkpoint(sample());
  const std::filesystem::path whole = dir.path() / "whole.msinet";
  checkpoint::write_checkpoint(whole, sample());
  const checkpoint::CheckpointMeta m = checkpoint::read_checkpoint_meta(whole);
  EXPECT_EQ(m.dataset, "osie");
  EXPECT_EQ(m.height, 48);
  EXPECT_EQ(m.width, 64);
  EXPECT_EQ(m.epochs_done, 2);
  EXPECT_EQ(m.step_in_epoch, 3);

  const size_t model_at = bytes.find("\nmodel ") + 1;
  const std::filesystem::path cut = dir.path() / "cut.msinet";
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, model_at + 3);
  EXPECT_EQ(checkpoint::read_checkpoint_meta(cut).epochs_done, 2);

  std::string flipped = bytes;
  flipped[bytes.find("osie")] ^= 0x20;
  const std::filesystem::path bad = dir.path() / "bad.msinet";
  std::ofstream(bad, std::ios::binary) << flipped;
  const Error e = testing::thrown_error([&] { checkpoint::read_checkpoint_meta(bad); });
  EXPECT_EQ(e.code(), ErrorCode::kWeights);
  EXPECT_NE(std::string(e.what()).find("bad.msinet"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("CRC32C"), std::string::npos) << e.what();

  const std::string meta =
      "dataset: x\nheight: 8\nwidth: 16\nepochs_done: 1\nstep_in_epoch: 0\n"
      "partial_train_sum: 0\nbest_valid: 0.5\nseed: 7\ntrain_history: [0.75]\n"
      "valid_history: [0.5]";
  const std::filesystem::path old = dir.path() / "old.msinet";
  std::ofstream(old, std::ios::binary) << "MSINET-CHECKPOINT 1\nmeta " +
                                              std::to_string(meta.size()) + "\n" + meta +
                                              "\nmodel 3\nabc\nend\n";
  EXPECT_EQ(checkpoint::read_checkpoint_meta(old).width, 16);

  EXPECT_EQ(testing::thrown_error([&] {
              checkpoint::read_checkpoint_meta(dir.path() / "none.msinet");
            }).code(),
            ErrorCode::kWeights);
}

}  // namespace
}  // namespace msinet
