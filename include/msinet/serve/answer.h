#pragma once
// What POST /v1/saliency is asked for (its query) and the bytes it answers with.

#include <map>
#include <string>

#include "msinet/data/overlay.h"
#include "msinet/pipeline/pipeline.h"
#include "msinet/util/size.h"

namespace msinet::serve {

/// The body format of a saliency answer.
enum class AnswerFormat { kPng, kJpeg, kNpy, kJson };

/// The query of POST /v1/saliency.
struct SaliencyQuery {
  util::Size size;                           ///< network input size
  AnswerFormat format = AnswerFormat::kPng;  ///< of the map, or of the overlay
  bool overlay = false;                      ///< the image blended with the coloured map instead
  data::OverlayOptions overlay_style;        ///< colormap, alpha and colorbar of the overlay
};

/// Parses `size=HxW` (multiples of 8; default `default_size`), `format=png|jpeg|jpg|npy|json`
/// (default png; jpeg with overlay=1), `overlay=0|1` and, with overlay=1,
/// `colormap=inferno|jet|viridis|turbo|gray`, `alpha=A` (0 < A <= 1) and `colorbar=0|1` (defaults
/// those of test --overlay). Throws Refused(400) naming the parameter for a bad value, a repeated
/// or unknown parameter, overlay=1 with npy or json, or an overlay parameter without overlay=1.
SaliencyQuery parse_saliency_query(const std::multimap<std::string, std::string>& params,
                                   util::Size default_size);

/// An answer's body and content type.
struct Answer {
  std::string body;
  std::string content_type;
};

/// Encodes a restored map (Result::map, 0..255, with Result::image) exactly as `msinet test`
/// writes it: png 8-bit grayscale and jpeg quality 100 of the quantised map, npy float32
/// [H, W] in [0, 1], json {"height", "width", "map": row-major 0..255 integers as in the png};
/// an overlay as test --overlay makes it (JPEG quality 95, or PNG).
Answer encode_answer(const pipeline::Result& result, const SaliencyQuery& query);

}  // namespace msinet::serve
