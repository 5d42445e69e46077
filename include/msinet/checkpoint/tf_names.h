#pragma once
// MSI-Net parameters <-> TensorFlow names and layouts (kernels HWIO in TensorFlow, OIHW here).
//
// Import rules (load_tf_weights):
//  - Only names ending in "/kernel" or "/bias" are weights; every other name (shape constants,
//    the mean constant, "/read" identities, ...) is skipped.
//  - A common prefix is allowed: it is whatever precedes "conv1/conv1_1/kernel" in the shortest
//    weight name that ends with it, and every weight name must start with it ("model/" works).
//  - Strict: every missing, unknown or mis-shaped weight is listed, with both shapes, in one
//    Error(kWeights); nothing is loaded unless everything matches.

#include <string>
#include <utility>
#include <vector>

#include "msinet/model/msinet.h"
#include "msinet/weights/float_tensor.h"

namespace msinet::checkpoint {

/// (TensorFlow name, parameter name) for all 46 tensors in network order, e.g.
/// ("conv1/conv1_1/kernel", "encoder.conv1_1.weight"); the one place that maps the names.
std::vector<std::pair<std::string, std::string>> tf_name_table();

/// Loads TensorFlow-named float tensors (kernels HWIO) into `net`; `origin` names the source
/// in error messages. Throws Error(kWeights) listing every offender.
void load_tf_weights(model::MSINet& net, const weights::NamedTensors& tensors,
                     const std::string& origin);

/// The parameters of `net` under their TensorFlow names, kernels HWIO (inverse of load).
weights::NamedTensors export_tf_weights(const model::MSINet& net);

/// True when `tensors` are named by parameter, as msinet's ONNX export (and PyTorch) names them:
/// they hold "encoder.conv1_1.weight".
bool has_parameter_names(const weights::NamedTensors& tensors);

/// Loads tensors named by parameter ("encoder.conv1_1.weight", kernels OIHW) into `net`, with the
/// rules of load_tf_weights (names ending in ".weight"/".bias" are weights; strict).
void load_parameter_weights(model::MSINet& net, const weights::NamedTensors& tensors,
                            const std::string& origin);

/// The parameters of `net` by parameter name, kernels OIHW (inverse of load_parameter_weights).
weights::NamedTensors export_parameter_weights(const model::MSINet& net);

/// Loads the 13 encoder convolutions from a VGG16 checkpoint named "conv1_1/weights",
/// "conv1_1/biases", ... (HWIO). Names not starting with "conv" (fully connected layers,
/// counters) are skipped; any other missing, unknown or mis-shaped tensor is an Error(kWeights).
void load_vgg16_weights(model::MSINet& net, const weights::NamedTensors& tensors,
                        const std::string& origin);

}  // namespace msinet::checkpoint
