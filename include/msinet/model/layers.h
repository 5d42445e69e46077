#pragma once
// The one description of MSI-Net's layers. The training modules, the inference runtime's plan,
// the FLOP count and the TensorFlow names are all derived from kLayers; changing a layer is one
// edit here. ref: saliency/model.py _encoder, _aspp, _decoder

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msinet::model {

/// The three parts of the network, registered as the submodules "encoder", "aspp", "decoder".
enum class Part { kEncoder, kAspp, kDecoder };

/// What a convolution reads.
enum class Input {
  kPrevious,      ///< the previous layer's output (the image for the first)
  kUpsampled,     ///< the previous output, upsampled x2 (TF1 legacy bilinear)
  kFeatures,      ///< the encoder's concatenated features (an ASPP branch)
  kFeatureMean,   ///< the spatial mean of the features; the output is broadcast back (ASPP)
  kAsppBranches,  ///< the ASPP branches concatenated in table order
};

/// Max-pooling after a convolution and its ReLU.
enum class Pool {
  kNone,
  kStride2,      ///< 2x2, stride 2, VALID: halves the size
  kSameStride1,  ///< 2x2, stride 1, TF "SAME": keeps the size
};

/// One convolution ("same" padding, stride 1, with bias).
struct Layer {
  Part part;
  const char* name;  ///< submodule name inside its part, e.g. "conv1_1"
  int64_t kernel;
  int64_t in;
  int64_t out;
  int64_t dilation;
  Input input;
  bool relu;
  Pool pool = Pool::kNone;
  bool feature = false;  ///< encoder: its (pooled) output is part of the features
};

/// The 23 convolutions in network order.
inline constexpr std::array<Layer, 23> kLayers = {{
    {Part::kEncoder, "conv1_1", 3, 3, 64, 1, Input::kPrevious, true},
    {Part::kEncoder, "conv1_2", 3, 64, 64, 1, Input::kPrevious, true, Pool::kStride2},
    {Part::kEncoder, "conv2_1", 3, 64, 128, 1, Input::kPrevious, true},
    {Part::kEncoder, "conv2_2", 3, 128, 128, 1, Input::kPrevious, true, Pool::kStride2},
    {Part::kEncoder, "conv3_1", 3, 128, 256, 1, Input::kPrevious, true},
    {Part::kEncoder, "conv3_2", 3, 256, 256, 1, Input::kPrevious, true},
    {Part::kEncoder, "conv3_3", 3, 256, 256, 1, Input::kPrevious, true, Pool::kStride2, true},
    {Part::kEncoder, "conv4_1", 3, 256, 512, 1, Input::kPrevious, true},
    {Part::kEncoder, "conv4_2", 3, 512, 512, 1, Input::kPrevious, true},
    {Part::kEncoder, "conv4_3", 3, 512, 512, 1, Input::kPrevious, true, Pool::kSameStride1, true},
    {Part::kEncoder, "conv5_1", 3, 512, 512, 2, Input::kPrevious, true},
    {Part::kEncoder, "conv5_2", 3, 512, 512, 2, Input::kPrevious, true},
    {Part::kEncoder, "conv5_3", 3, 512, 512, 2, Input::kPrevious, true, Pool::kSameStride1, true},
    {Part::kAspp, "conv1_1", 1, 1280, 256, 1, Input::kFeatures, true},
    {Part::kAspp, "conv1_2", 3, 1280, 256, 4, Input::kFeatures, true},
    {Part::kAspp, "conv1_3", 3, 1280, 256, 8, Input::kFeatures, true},
    {Part::kAspp, "conv1_4", 3, 1280, 256, 12, Input::kFeatures, true},
    {Part::kAspp, "conv1_5", 1, 1280, 256, 1, Input::kFeatureMean, true},
    {Part::kAspp, "conv2", 1, 1280, 256, 1, Input::kAsppBranches, true},
    {Part::kDecoder, "conv1", 3, 256, 128, 1, Input::kUpsampled, true},
    {Part::kDecoder, "conv2", 3, 128, 64, 1, Input::kUpsampled, true},
    {Part::kDecoder, "conv3", 3, 64, 32, 1, Input::kUpsampled, true},
    {Part::kDecoder, "conv4", 3, 32, 1, 1, Input::kPrevious, false},
}};

/// Channels of the encoder's features: the sum over the feature layers (1280).
constexpr int64_t feature_channels() {
  int64_t c = 0;
  for (const Layer& l : kLayers) c += l.feature ? l.out : 0;
  return c;
}

/// Channels of the ASPP branches concatenated (5 x 256).
constexpr int64_t aspp_branch_channels() {
  int64_t c = 0;
  for (const Layer& l : kLayers) {
    c += (l.input == Input::kFeatures || l.input == Input::kFeatureMean) ? l.out : 0;
  }
  return c;
}

/// The input channels each row must have, given the rows before it.
constexpr bool layers_are_consistent() {
  int64_t previous = 3;
  for (const Layer& l : kLayers) {
    const int64_t expected = l.input == Input::kFeatures || l.input == Input::kFeatureMean
                                 ? feature_channels()
                             : l.input == Input::kAsppBranches ? aspp_branch_channels()
                                                               : previous;
    if (l.in != expected || l.kernel % 2 != 1) return false;
    previous = l.out;
  }
  return previous == 1;
}
static_assert(layers_are_consistent(), "kLayers: a layer's input channels do not match");

/// Index into kLayers of the row `name` of `part`; kLayers.size() when there is none.
constexpr size_t layer_index(Part part, std::string_view name) {
  for (size_t i = 0; i < kLayers.size(); ++i) {
    if (kLayers[i].part == part && name == kLayers[i].name) return i;
  }
  return kLayers.size();
}

/// The input size must be a multiple of this (three stride-2 pools).
constexpr int64_t input_multiple() {
  int64_t m = 1;
  for (const Layer& l : kLayers) m *= l.pool == Pool::kStride2 ? 2 : 1;
  return m;
}

/// "encoder", "aspp" or "decoder".
std::string part_name(Part part);

/// The submodule path of a layer, e.g. "encoder.conv1_1" (parameters add ".weight"/".bias").
std::string module_path(const Layer& layer);

/// The TensorFlow variable scope of a layer, e.g. "conv1/conv1_1", "aspp/conv1_2",
/// "decoder/conv4": encoder convolutions sit in a block scope named by their prefix.
std::string tf_scope(const Layer& layer);

/// Multiply-adds x 2 of one forward pass at h x w: 2*k*k*cin*cout per output pixel of every
/// convolution at its feature size (91.1e9 at 240x320).
double forward_flops(int64_t h, int64_t w);

/// forward_flops per row of kLayers.
std::vector<double> layer_flops(int64_t h, int64_t w);

}  // namespace msinet::model
