#pragma once
// The published MSI-Net weights: downloaded on first use and imported once into the weights
// folder as a native checkpoint.

#include <filesystem>
#include <string>

namespace msinet::infer {

/// <weights_dir>/<dataset>.msinet, importing the published model for `dataset` first when it is
/// missing (download through the shared downloader, MSINET_MIRROR honoured). A failed download
/// is Error(kNetwork) saying where to put the file by hand.
std::filesystem::path ensure_published_weights(const std::string& dataset,
                                               const std::filesystem::path& weights_dir);

/// Imports any TensorFlow form (or an msinet checkpoint) into a native checkpoint at `out`.
void import_weights(const std::filesystem::path& src, const std::filesystem::path& out);

}  // namespace msinet::infer
