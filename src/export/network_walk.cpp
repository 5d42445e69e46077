#include "network_walk.h"

namespace msinet::exporter {

using model::Input;
using model::kLayers;
using model::Part;
using model::Pool;

std::string walk_network(NetworkBuilder& builder, const std::string& image) {
  std::string previous = image, features;
  std::vector<std::string> taps, branches;
  for (size_t i = 0; i < kLayers.size(); ++i) {
    const model::Layer& l = kLayers[i];
    std::string x;
    switch (l.input) {
      case Input::kPrevious:
        x = previous;
        break;
      case Input::kUpsampled:
        x = builder.upsample2(previous);
        break;
      case Input::kFeatures:
        x = features;
        break;
      case Input::kFeatureMean:
        x = builder.spatial_mean(features);
        break;
      case Input::kAsppBranches:
        x = builder.concat(branches);
        break;
    }
    std::string y = builder.conv(i, x);
    if (l.input == Input::kFeatureMean) y = builder.broadcast_spatial(y, l.out, features);
    if (l.pool != Pool::kNone) y = builder.max_pool(l.pool, y);
    if (l.feature) taps.push_back(y);
    const bool last_of_encoder =
        l.part == Part::kEncoder && (i + 1 == kLayers.size() || kLayers[i + 1].part != l.part);
    if (last_of_encoder) features = builder.concat(taps);
    if (l.input == Input::kFeatures || l.input == Input::kFeatureMean) branches.push_back(y);
    previous = y;
  }
  return previous;
}

}  // namespace msinet::exporter
