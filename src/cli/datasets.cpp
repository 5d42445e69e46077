#include "msinet/cli/datasets.h"

#include <spdlog/spdlog.h>

#include "msinet/data/dataset.h"
#include "msinet/data/recipes.h"
#include "msinet/data/splits.h"
#include "msinet/util/error.h"

namespace msinet::cli {

namespace fs = std::filesystem;

DatasetChoice choose_dataset(const std::string& dataset, const config::Config& cfg) {
  const data::DatasetSpec spec = data::dataset_spec_from_arg(dataset);
  DatasetChoice c;
  c.name = spec.name;
  if (!spec.builtin) c.yaml = spec.source;
  c.height = spec.height;
  c.width = spec.width;
  const std::string& size = cfg.get("size");
  if (!size.empty()) {
    const config::Size s = config::parse_size(size, "--size");
    c.height = s.h;
    c.width = s.w;
  }
  return c;
}

data::PrepareOptions prepare_options(const config::Config& cfg) {
  data::PrepareOptions o;
  o.download.max_bytes = static_cast<uint64_t>(cfg.get_int("max_download_mb")) << 20;
  o.extract.max_total_bytes = static_cast<uint64_t>(cfg.get_int("max_unpacked_mb")) << 20;
  o.urls = cfg.urls();
  o.threads = cfg.get_int("threads");
  return o;
}

PreparedDataset load_train_data(const DatasetChoice& choice, const std::string& path,
                                const config::Config& cfg) {
  const data::DatasetSpec spec =
      choice.yaml.empty() ? data::builtin_spec(choice.name) : data::load_dataset_yaml(choice.yaml);
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
  const data::Split split = data::make_split(spec, dir);
  for (const auto& w : split.warnings) spdlog::warn("{}", w);
  PreparedDataset p;
  p.data.name = spec.name;
  p.data.height = choice.height;
  p.data.width = choice.width;
  p.data.train = split.train;
  p.data.valid = split.valid;
  p.saliency_dir = spec.builtin ? dir / "saliency" : spec.saliency_dir;
  p.fixations_dir = spec.builtin ? dir / "fixations" : spec.fixations_dir;
  return p;
}

}  // namespace msinet::cli
