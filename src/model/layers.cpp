#include "msinet/model/layers.h"

#include <vector>

namespace msinet::model {

std::string part_name(Part part) {
  switch (part) {
    case Part::kEncoder:
      return "encoder";
    case Part::kAspp:
      return "aspp";
    case Part::kDecoder:
      return "decoder";
  }
  return "?";
}

std::string module_path(const Layer& layer) { return part_name(layer.part) + "." + layer.name; }

// ref: saliency/model.py variable scopes ("conv1/conv1_1", "aspp/conv1_1", "decoder/conv1")
std::string tf_scope(const Layer& layer) {
  const std::string name = layer.name;
  if (layer.part == Part::kEncoder) return name.substr(0, name.find('_')) + "/" + name;
  return part_name(layer.part) + "/" + name;
}

std::vector<double> layer_flops(int64_t h, int64_t w) {
  std::vector<double> flops;
  double pixels = static_cast<double>(h) * static_cast<double>(w);
  double feature_pixels = 0;
  for (const Layer& l : kLayers) {
    const double per_pixel = 2.0 * static_cast<double>(l.kernel * l.kernel * l.in * l.out);
    if (l.input == Input::kUpsampled) pixels *= 4;
    if (l.input == Input::kFeatures) pixels = feature_pixels;
    flops.push_back(per_pixel * (l.input == Input::kFeatureMean ? 1.0 : pixels));
    if (l.pool == Pool::kStride2) {
      h /= 2;
      w /= 2;
      pixels = static_cast<double>(h) * static_cast<double>(w);
    }
    if (l.feature) feature_pixels = pixels;
  }
  return flops;
}

double forward_flops(int64_t h, int64_t w) {
  double total = 0;
  for (double f : layer_flops(h, w)) total += f;
  return total;
}

}  // namespace msinet::model
