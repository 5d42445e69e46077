#include "msinet/cli/datasets.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

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

fs::path data_root(const std::string& path, const config::Config& cfg) {
  return path.empty() ? fs::path(cfg.get("data_dir")) : fs::path(path);
}

fs::path dataset_folder(const data::DatasetSpec& spec, const std::string& path,
                        const config::Config& cfg) {
  if (!spec.builtin) return spec.stimuli_dir;
  return data::resolve_dataset_dir(data_root(path, cfg), spec.name);
}

namespace {

bool is_image_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// The first image at or below `root`, outside hidden folders; empty when none is found among
// the first entries (a large folder without images is not searched to its end).
fs::path first_image_below(const fs::path& root) {
  constexpr int kMaxEntries = 100000;
  std::error_code ec;
  int seen = 0;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end && seen < kMaxEntries; it.increment(ec), ++seen) {
    const fs::path& p = it->path();
    if (p.filename().string().rfind('.', 0) == 0) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && is_image_name(p)) return p;
  }
  return {};
}

bool same_folder(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

}  // namespace

void refuse_image_folder(const fs::path& root, const std::string& name, const std::string& command,
                         const config::Config& cfg) {
  std::error_code ec;
  if (!fs::is_directory(root, ec) || same_folder(root, cfg.get("data_dir"))) return;
  if (data::dataset_ready(root) || fs::exists(root / name, ec) ||
      fs::exists(root / "downloads", ec)) {
    return;
  }
  for (const auto& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory(ec) && data::dataset_ready(e.path())) return;  // a folder of datasets
  }
  const fs::path image = first_image_below(root);
  if (image.empty()) return;
  const std::string r = root.string();
  throw Error(ErrorCode::kUsage,
              "'" + r + "' is a folder of images (such as '" + image.string() +
                  "'), not a dataset: it holds no " + name +
                  "/ dataset folder and no stimuli/ and saliency/ folders, so `msinet " + command +
                  " -d " + name + "` would download " + name +
                  " into it. To predict saliency maps for these images, run `msinet test -p " + r +
                  "`; to train on your own images and maps, write a dataset YAML file (README "
                  "\"Your own data\") and pass it as -d; to download " +
                  name + ", give -p an empty or another folder");
}

data::PreparedDataset load_dataset(const data::DatasetSpec& spec, const std::string& path,
                                   const config::Config& cfg) {
  fs::path dir;
  if (spec.builtin) {
    const fs::path root = data_root(path, cfg);
    dir = dataset_folder(spec, path, cfg);
    std::error_code ec;
    if (!fs::is_directory(dir / "stimuli", ec)) {
      refuse_image_folder(root, spec.name, "train", cfg);
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
