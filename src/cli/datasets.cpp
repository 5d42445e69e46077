#include "msinet/cli/datasets.h"

#include <spdlog/spdlog.h>

#include "msinet/cli/common.h"
#include "msinet/util/error.h"
#include "msinet/util/size.h"

namespace msinet::cli {

namespace fs = std::filesystem;

data::DatasetSpec choose_dataset(const std::string& dataset, const config::Config& cfg) {
  data::DatasetSpec spec = data::dataset_spec_from_arg(dataset);
  const std::string& size = cfg.get("size");
  if (!size.empty()) {
    const util::Size s = util::parse_size(size, "--size");
    spec.height = s.h;
    spec.width = s.w;
  }
  return spec;
}

data::PrepareOptions prepare_options(const config::Config& cfg) {
  data::PrepareOptions o;
  o.download = download_options(cfg);
  o.extract.max_total_bytes = static_cast<uint64_t>(cfg.get_int("max_unpacked_mb")) << 20;
  o.urls = cfg.urls();
  o.threads = cfg.get_int("threads");
  return o;
}

data::PreparedDataset load_dataset(const data::DatasetSpec& spec, const std::string& path,
                                   const config::Config& cfg) {
  fs::path dir;
  if (spec.builtin) {
    const fs::path root = path.empty() ? fs::path(cfg.get("data_dir")) : fs::path(path);
    dir = data::resolve_dataset_dir(root, spec.name);
    std::error_code ec;
    if (!fs::is_directory(dir / "stimuli", ec)) {
      spdlog::info("dataset '{}' not found under '{}': preparing it", spec.name, root.string());
      dir = data::prepare_dataset(spec.name, root, prepare_options(cfg));
    }
  }
  data::PreparedDataset p;
  p.split = data::make_split(spec, dir);
  for (const auto& w : p.split.warnings) spdlog::warn("{}", w);
  p.name = spec.name;
  p.height = spec.height;
  p.width = spec.width;
  p.saliency_dir = spec.builtin ? dir / "saliency" : spec.saliency_dir;
  p.fixations_dir = spec.builtin ? dir / "fixations" : spec.fixations_dir;
  return p;
}

}  // namespace msinet::cli
