#include "msinet/data/recipes.h"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

#include "msinet/data/blur.h"
#include "msinet/data/dataset.h"
#include "msinet/data/matfile.h"
#include "msinet/data/splits.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"
#include "msinet/util/process_lock.h"
#include "msinet/util/progress.h"
#include "msinet/util/signals.h"
#include "msinet/util/task_pool.h"

namespace msinet::data {

namespace {

constexpr const char* kWorkDir = ".work";

// ref: saliency/download.py (sources of every download_<name> function)
const std::map<std::string, std::vector<DatasetSource>>& source_table() {
  static const std::map<std::string, std::vector<DatasetSource>> table = {
      {"salicon",
       {{"salicon.images", {"", "1g8j-hTT-51IG1UFwP0xTGhLdgIUCW5e5"}, "salicon-images.zip"},
        {"salicon.fixations", {"", "1P-jeZXCsjoKO79OhFUgnj6FGcyvmLDPj"}, "salicon-fixations.zip"},
        {"salicon.maps", {"", "1PnO7szbdub1559LfjYHMy65EDC4VhJC8"}, "salicon-maps.zip"}}},
      {"mit1003",
       {{"mit1003.stimuli",
         {"https://people.csail.mit.edu/tjudd/WherePeopleLook/ALLSTIMULI.zip", ""},
         "mit1003-ALLSTIMULI.zip"},
        {"mit1003.maps",
         {"https://people.csail.mit.edu/tjudd/WherePeopleLook/ALLFIXATIONMAPS.zip", ""},
         "mit1003-ALLFIXATIONMAPS.zip"}}},
      {"cat2000",
       {{"cat2000.archive", {"http://saliency.mit.edu/trainSet.zip", ""}, "cat2000-trainSet.zip"}}},
      {"dutomron",
       {{"dutomron.images",
         {"http://saliencydetection.net/dut-omron/download/DUT-OMRON-image.zip", ""},
         "dutomron-DUT-OMRON-image.zip"},
        {"dutomron.fixations",
         {"http://saliencydetection.net/dut-omron/download/DUT-OMRON-eye-fixations.zip", ""},
         "dutomron-DUT-OMRON-eye-fixations.zip"}}},
      {"pascals",
       {{"pascals.archive",
         {"http://cbs.ic.gatech.edu/salobj/download/salObj.zip", ""},
         "pascals-salObj.zip"}}},
      {"osie",
       {{"osie.archive",
         {"https://github.com/NUS-VIP/predicting-human-gaze-beyond-pixels/archive/master.zip", ""},
         "osie-predicting-human-gaze-beyond-pixels-master.zip",
         50056635}}},
      {"fiwi",
       {{"fiwi.archive",
         {"https://www.dropbox.com/s/30nxg2uwd1wpb80/webpage_dataset.zip?dl=1", ""},
         "fiwi-webpage_dataset.zip"}}},
  };
  return table;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::string base_name(const std::string& entry) {
  const auto slash = entry.rfind('/');
  return slash == std::string::npos ? entry : entry.substr(slash + 1);
}

// Folders, macOS resource forks (__MACOSX/, ._name): never data.
bool is_metadata(const std::string& entry) {
  return entry.empty() || entry.back() == '/' || starts_with(entry, "__MACOSX/") ||
         contains(entry, "/__MACOSX/") || starts_with(base_name(entry), "._");
}

// Everything a recipe needs.
struct Context {
  std::string name;
  fs::path tmp;
  std::vector<fs::path> archives;
  std::function<bool()> cancelled;
  int threads = 1;

  fs::path work() const { return tmp / kWorkDir; }

  // A file unpacked from archive `index`, named as the user can find it: the temporary folder
  // is gone once the preparation fails.
  std::string from_archive(const fs::path& file, size_t index) const {
    return "'" + file.filename().string() + "' from archive '" + archives.at(index).string() + "'";
  }

  void check() const {
    if (cancelled && cancelled()) {
      throw Error(ErrorCode::kInterrupted,
                  "preparation of " + name + " interrupted; run the command again to resume");
    }
  }
};

// Unpacks archive `index` with `map`, skipping metadata entries and polling for cancellation.
// A damaged archive is removed, so the next run downloads it afresh.
uint64_t extract(const Context& ctx, size_t index, const fetch::ExtractLimits& limits,
                 const std::function<std::string(const std::string&)>& map) {
  const fs::path& zip = ctx.archives.at(index);
  spdlog::info("{}: unpacking {}", ctx.name, zip.filename().string());
  const fetch::EntryMapper mapper = [&](const std::string& entry) -> std::string {
    ctx.check();
    if (is_metadata(entry)) return "";
    return map(entry);
  };
  try {
    return fetch::extract_zip(zip, ctx.tmp, mapper, limits);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kData) throw;
    std::error_code ec;
    fs::remove(zip, ec);
    throw Error(ErrorCode::kData, std::string(e.what()) + " (archive '" + zip.string() +
                                      "' removed: run the command again to download it afresh)");
  }
}

// Runs `read` on `file` (unpacked from archive `index`); an error that names the temporary file
// names it as ctx.from_archive does instead.
template <typename F>
auto read_unpacked(const Context& ctx, const fs::path& file, size_t index, F&& read) {
  try {
    return read();
  } catch (const Error& e) {
    std::string message = e.what();
    const std::string quoted = "'" + file.string() + "'";
    const auto pos = message.find(quoted);
    if (pos != std::string::npos)
      message.replace(pos, quoted.size(), ctx.from_archive(file, index));
    throw Error(e.code(), message);
  }
}

// Runs fn(0..n-1) on ctx.threads workers; the first exception stops the others and is rethrown.
void parallel_for(const Context& ctx, size_t n, const std::string& label,
                  const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first;
  std::mutex mutex;
  size_t done = 0;
  spdlog::info("{}: making {} {}", ctx.name, n, label);
  util::Progress progress(ctx.name + " " + label, static_cast<int64_t>(n));
  const auto worker = [&] {
    for (;;) {
      if (failed) return;
      const size_t i = next++;
      if (i >= n) return;
      try {
        ctx.check();
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first) first = std::current_exception();
        failed = true;
        return;
      }
      std::lock_guard<std::mutex> lock(mutex);
      progress.update(static_cast<int64_t>(++done));
    }
  };
  const int workers = static_cast<int>(std::min<size_t>(static_cast<size_t>(ctx.threads), n));
  {
    util::TaskPool pool(std::max(1, workers - 1));
    std::vector<std::future<void>> helpers;
    for (int t = 1; t < workers; ++t) helpers.push_back(pool.submit(worker));
    worker();
    for (auto& h : helpers) h.get();
  }
  if (first) std::rethrow_exception(first);
  progress.finish();
}

// numpy's integer indexing: -n..-1 count from the end; anything else outside [0, n) is an error.
int64_t numpy_index(double value, int64_t n, const std::string& what) {
  if (!std::isfinite(value) || std::fabs(value) > 1e15) {
    throw Error(ErrorCode::kData,
                what + ": coordinate " + std::to_string(value) + " is not usable");
  }
  const auto i = static_cast<int64_t>(value);
  if (i < -n || i >= n) {
    throw Error(ErrorCode::kData, what + ": coordinate " + std::to_string(i) +
                                      " lies outside the map (size " + std::to_string(n) + ")");
  }
  return i < 0 ? i + n : i;
}

// Writes <stem>.png into fixations/ and, when sigma > 0, the blurred map into saliency/.
// ref: saliency/download.py (gaussian_filter + imsave(cmap="gray"))
void write_maps(const Context& ctx, const std::string& stem, const cv::Mat& fixations,
                double sigma) {
  if (sigma > 0) {
    write_gray_png(ctx.tmp / "saliency" / (stem + ".png"),
                   gray_levels(gaussian_filter(fixations, sigma)));
  }
  write_gray_png(ctx.tmp / "fixations" / (stem + ".png"), gray_levels(fixations));
}

void make_dirs(const Context& ctx, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    std::error_code ec;
    fs::create_directories(ctx.tmp / n, ec);
    if (ec) {
      throw Error(ErrorCode::kIo,
                  "cannot create '" + (ctx.tmp / n).string() + "': " + ec.message());
    }
  }
}

std::vector<fs::path> files_with_extension(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Strips one leading folder named `name` ("maps/train/a.png" -> "train/a.png").
std::string strip_folder(const std::string& entry, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    const std::string prefix = std::string(n) + "/";
    if (starts_with(entry, prefix)) return entry.substr(prefix.size());
  }
  return entry;
}

// ref: saliency/download.py download_salicon. Entries containing "test" are skipped; images/
// becomes stimuli/. The fixation and map archives land in fixations/ and saliency/ (a leading
// fixations/ or maps/ folder inside them is dropped, so saliency/train and saliency/val result).
void recipe_salicon(const Context& ctx, const PrepareOptions& o) {
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    if (contains(e, "test")) return "";
    if (starts_with(e, "images/")) return "stimuli/" + e.substr(7);
    return e;
  });
  extract(ctx, 1, o.extract, [](const std::string& e) -> std::string {
    if (contains(e, "test")) return "";
    return "fixations/" + strip_folder(e, {"fixations"});
  });
  extract(ctx, 2, o.extract, [](const std::string& e) -> std::string {
    if (contains(e, "test")) return "";
    return "saliency/" + strip_folder(e, {"maps", "saliency"});
  });
}

// ref: saliency/download.py download_mit1003
void recipe_mit1003(const Context& ctx, const PrepareOptions& o) {
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    return ends_with(e, ".jpeg") ? "stimuli/" + base_name(e) : "";
  });
  extract(ctx, 1, o.extract, [](const std::string& e) -> std::string {
    const std::string base = base_name(e);
    if (ends_with(e, "Pts.jpg")) {
      // a stray file in the archive, without a stimulus
      if (base == "i05june05_static_street_boston_p1010764fixPts.jpg") return "";
      return "fixations/" + base;
    }
    if (ends_with(e, "Map.jpg")) return "saliency/" + base;
    return "";
  });
}

// ref: saliency/download.py download_cat2000
void recipe_cat2000(const Context& ctx, const PrepareOptions& o) {
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    if (contains(e, "Output") || contains(e, "allFixData")) return "";
    if (!starts_with(e, "trainSet/")) return "";
    const std::string rest = e.substr(9);
    const auto slash = rest.find('/');
    if (slash == std::string::npos) return rest;
    const std::string top = rest.substr(0, slash);
    const std::string tail = rest.substr(slash);
    if (top == "Stimuli") return "stimuli" + tail;
    if (top == "FIXATIONLOCS") return "fixations" + tail;
    if (top == "FIXATIONMAPS") return "saliency" + tail;
    return rest;
  });
}

// ref: saliency/download.py download_dutomron. Variable `s` (n x 3): rows sorted by the third
// column (stably); row 0 holds (width, height), the others (x, y) fixations, 0-based.
void recipe_dutomron(const Context& ctx, const PrepareOptions& o) {
  make_dirs(ctx, {"stimuli", "fixations", "saliency"});
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    return ends_with(e, ".jpg") && !contains(e, "._") ? "stimuli/" + base_name(e) : "";
  });
  extract(ctx, 1, o.extract, [](const std::string& e) -> std::string {
    return ends_with(e, ".mat") && !contains(e, "._")
               ? std::string(kWorkDir) + "/mat/" + base_name(e)
               : "";
  });
  const auto mats = files_with_extension(ctx.work() / "mat", ".mat");
  if (mats.empty()) {
    throw Error(ErrorCode::kData, "dutomron: archive '" + ctx.archives[1].string() +
                                      "' holds no .mat fixation files");
  }
  std::mutex matio_mutex;  // matio (and HDF5) are not thread-safe
  parallel_for(ctx, mats.size(), "fixation maps", [&](size_t i) {
    MatArray s;
    {
      std::lock_guard<std::mutex> lock(matio_mutex);
      s = read_unpacked(ctx, mats[i], 1, [&] { return MatFile(mats[i]).numeric("s"); });
    }
    const std::string where = "MAT file " + ctx.from_archive(mats[i], 1) + ": variable 's'";
    if (s.dims.size() != 2 || s.cols() < 3 || s.rows() < 1) {
      throw Error(ErrorCode::kData, where + " must be an n x 3 array with n >= 1");
    }
    for (double v : s.values) {
      if (v != std::trunc(v)) {
        throw Error(ErrorCode::kData, where + " holds a non-integer value " + std::to_string(v));
      }
    }
    std::vector<size_t> order(s.rows());
    for (size_t r = 0; r < order.size(); ++r) order[r] = r;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return s.at(a, 2) < s.at(b, 2); });
    const double w = s.at(order[0], 0);
    const double h = s.at(order[0], 1);
    if (!(w >= 0 && h >= 0 && w <= 100000 && h <= 100000)) {
      throw Error(ErrorCode::kData, where + ": first row (after sorting) must hold the image size");
    }
    cv::Mat map(static_cast<int>(h), static_cast<int>(w), CV_64F, cv::Scalar(0.0));
    for (size_t k = 1; k < order.size(); ++k) {
      const int64_t y = numpy_index(s.at(order[k], 1), map.rows, where);
      const int64_t x = numpy_index(s.at(order[k], 0), map.cols, where);
      map.at<double>(static_cast<int>(y), static_cast<int>(x)) = 1.0;
    }
    write_maps(ctx, mats[i].stem().string(), map, /*sigma=*/16.0);
  });
}

// ref: saliency/download.py download_pascals. pascalFix.mat `fixCell`: one n x 2 array of
// (row, col), 1-based, per image; pascalSize.mat `sizeData`: N x 2 (height, width).
void recipe_pascals(const Context& ctx, const PrepareOptions& o) {
  make_dirs(ctx, {"stimuli", "fixations", "saliency"});
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    const std::string base = base_name(e);
    if (ends_with(e, ".jpg") && contains(e, "imgs/pascal")) return "stimuli/" + base;
    if (ends_with(e, ".png") && contains(e, "pascal/humanFix")) return "saliency/" + base;
    if (contains(e, "pascalFix.mat")) return std::string(kWorkDir) + "/pascalFix.mat";
    if (contains(e, "pascalSize.mat")) return std::string(kWorkDir) + "/pascalSize.mat";
    return "";
  });
  for (const char* f : {"pascalFix.mat", "pascalSize.mat"}) {
    if (!fs::exists(ctx.work() / f)) {
      throw Error(ErrorCode::kData,
                  "pascals: archive '" + ctx.archives[0].string() + "' holds no " + f);
    }
  }
  const fs::path fix_file = ctx.work() / "pascalFix.mat";
  const fs::path size_file = ctx.work() / "pascalSize.mat";
  const auto cells =
      read_unpacked(ctx, fix_file, 0, [&] { return MatFile(fix_file).numeric_cells("fixCell"); });
  const MatArray sizes =
      read_unpacked(ctx, size_file, 0, [&] { return MatFile(size_file).numeric("sizeData"); });
  if (sizes.dims.size() != 2 || sizes.cols() != 2 || sizes.rows() < cells.size()) {
    std::string dims;
    for (size_t d : sizes.dims) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    throw Error(ErrorCode::kData, "MAT file " + ctx.from_archive(size_file, 0) +
                                      ": variable 'sizeData' has shape " + dims + "; expected " +
                                      std::to_string(cells.size()) + "x2 (one size per image)");
  }
  parallel_for(ctx, cells.size(), "fixation maps", [&](size_t i) {
    const MatArray& c = cells[i];
    const std::string where = "MAT file " + ctx.from_archive(fix_file, 0) + ": variable 'fixCell{" +
                              std::to_string(i + 1) + "}'";
    if (!c.values.empty() && (c.dims.size() != 2 || c.cols() != 2)) {
      throw Error(ErrorCode::kData, where + " must be an n x 2 array of (row, col)");
    }
    const double h = sizes.at(i, 0);
    const double w = sizes.at(i, 1);
    if (!(h >= 0 && w >= 0 && h <= 100000 && w <= 100000)) {
      throw Error(ErrorCode::kData, "MAT file " + ctx.from_archive(size_file, 0) +
                                        ": variable 'sizeData' row " + std::to_string(i + 1) +
                                        " is not an image size");
    }
    cv::Mat map(static_cast<int>(h), static_cast<int>(w), CV_64F, cv::Scalar(0.0));
    for (size_t k = 0; k < c.rows() && !c.values.empty(); ++k) {
      const int64_t y = numpy_index(std::trunc(c.at(k, 0)) - 1, map.rows, where);
      const int64_t x = numpy_index(std::trunc(c.at(k, 1)) - 1, map.cols, where);
      map.at<double>(static_cast<int>(y), static_cast<int>(x)) = 1.0;
    }
    write_maps(ctx, std::to_string(i + 1), map, /*sigma=*/0.0);
  });
}

// ref: saliency/download.py download_osie. Each subject's int(fix_y), int(fix_x) index a
// 600 x 800 map directly; maps are named 1001 + index.
void recipe_osie(const Context& ctx, const PrepareOptions& o) {
  make_dirs(ctx, {"stimuli", "fixations", "saliency"});
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    const std::string base = base_name(e);
    if (ends_with(e, ".jpg") && contains(e, "data/stimuli")) return "stimuli/" + base;
    if (base == "fixations.mat") return std::string(kWorkDir) + "/fixations.mat";
    return "";
  });
  const fs::path mat = ctx.work() / "fixations.mat";
  if (!fs::exists(mat)) {
    throw Error(ErrorCode::kData,
                "osie: archive '" + ctx.archives[0].string() + "' holds no fixations.mat");
  }
  const auto images = read_unpacked(ctx, mat, 0, [&] { return read_osie_fixations(mat); });
  parallel_for(ctx, images.size(), "fixation maps", [&](size_t i) {
    const std::string where = "MAT file " + ctx.from_archive(mat, 0) + ": variable 'fixations{" +
                              std::to_string(i + 1) + "}'";
    cv::Mat map(600, 800, CV_64F, cv::Scalar(0.0));
    for (const auto& subject : images[i]) {
      for (size_t k = 0; k < subject.x.size(); ++k) {
        const int64_t y = numpy_index(subject.y[k], map.rows, where);
        const int64_t x = numpy_index(subject.x[k], map.cols, where);
        map.at<double>(static_cast<int>(y), static_cast<int>(x)) = 1.0;
      }
    }
    write_maps(ctx, std::to_string(1001 + i), map, /*sigma=*/16.0);
  });
}

// matplotlib's imread of a greyscale PNG: float32 value / (2^bit depth - 1).
cv::Mat read_png_like_matplotlib(const fs::path& file) {
  cv::Mat raw = cv::imread(file.string(), cv::IMREAD_UNCHANGED);
  if (raw.empty()) {
    throw Error(ErrorCode::kData, "cannot decode fixation map '" + file.string() + "'");
  }
  if (raw.channels() >= 3) {
    std::vector<cv::Mat> ch;
    cv::split(raw, ch);
    if (cv::countNonZero(ch[0] != ch[1]) != 0 || cv::countNonZero(ch[0] != ch[2]) != 0) {
      throw Error(ErrorCode::kData,
                  "fixation map '" + file.string() + "' is in colour; expected a greyscale PNG");
    }
    raw = ch[0];
  } else if (raw.channels() == 2) {
    std::vector<cv::Mat> ch;
    cv::split(raw, ch);
    raw = ch[0];
  }
  const bool wide = raw.depth() == CV_16U;
  const float denom = wide ? 65535.0f : 255.0f;
  cv::Mat out(raw.rows, raw.cols, CV_32F);
  for (int y = 0; y < raw.rows; ++y) {
    float* o = out.ptr<float>(y);
    for (int x = 0; x < raw.cols; ++x) {
      o[x] = (wide ? static_cast<float>(raw.at<uint16_t>(y, x))
                   : static_cast<float>(raw.at<uint8_t>(y, x))) /
             denom;
    }
  }
  return out;
}

// ref: saliency/download.py download_fiwi (imread -> float32, gaussian_filter(., 30), imsave)
void recipe_fiwi(const Context& ctx, const PrepareOptions& o) {
  make_dirs(ctx, {"stimuli", "fixations", "saliency"});
  extract(ctx, 0, o.extract, [](const std::string& e) -> std::string {
    const std::string base = base_name(e);
    if (ends_with(e, ".png") && contains(e, "stimuli")) return "stimuli/" + base;
    if (ends_with(e, ".png") && contains(e, "all5")) return std::string(kWorkDir) + "/all5/" + base;
    return "";
  });
  const auto maps = files_with_extension(ctx.work() / "all5", ".png");
  if (maps.empty()) {
    throw Error(ErrorCode::kData,
                "fiwi: archive '" + ctx.archives[0].string() + "' holds no all5/*.png maps");
  }
  parallel_for(ctx, maps.size(), "fixation maps", [&](size_t i) {
    const cv::Mat map =
        read_unpacked(ctx, maps[i], 0, [&] { return read_png_like_matplotlib(maps[i]); });
    write_maps(ctx, maps[i].stem().string(), map, /*sigma=*/30.0);
  });
}

using Recipe = void (*)(const Context&, const PrepareOptions&);

Recipe recipe_for(const std::string& name) {
  static const std::map<std::string, Recipe> recipes = {
      {"salicon", recipe_salicon},   {"mit1003", recipe_mit1003}, {"cat2000", recipe_cat2000},
      {"dutomron", recipe_dutomron}, {"pascals", recipe_pascals}, {"osie", recipe_osie},
      {"fiwi", recipe_fiwi}};
  return recipes.at(name);
}

void remove_stale_temps(const fs::path& data_root, const std::string& name) {
  const std::string prefix = "." + name + ".tmp-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(data_root, ec)) {
    const std::string f = e.path().filename().string();
    if (starts_with(f, prefix)) {
      spdlog::info("{}: removing the unfinished preparation '{}'", name, e.path().string());
      fs::remove_all(e.path(), ec);
    }
  }
}

// The folder that becomes the dataset once complete. Made with the user's umask (mkdtemp's 0700
// would make the prepared dataset private); the PID and a counter keep the name unique.
fs::path make_temp_dir(const fs::path& data_root, const std::string& name) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const fs::path dir = data_root / ("." + name + ".tmp-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(counter++));
    std::error_code ec;
    if (fs::create_directory(dir, ec)) return dir;
    if (ec) {
      throw Error(ErrorCode::kIo, "cannot create a temporary folder in '" + data_root.string() +
                                      "': " + ec.message());
    }
  }
  throw Error(ErrorCode::kIo,
              "cannot find a free temporary folder name in '" + data_root.string() + "'");
}

std::vector<fs::path> images_in(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  return util::list_images(dir);
}

// The recipes whose fixations/ folder holds one map per stimulus (the others keep the
// originals' fixation data as it comes, or none).
bool makes_fixation_maps(const std::string& name) { return name != "salicon" && name != "cat2000"; }

// The prepared folder before it becomes the dataset: every stimulus has its saliency map (and
// its fixation map, where the recipe makes them), paired as training pairs them.
void check_prepared(const Context& ctx) {
  const auto stimuli = images_in(ctx.tmp / "stimuli");
  const auto maps = images_in(ctx.tmp / "saliency");
  const auto fixations = images_in(ctx.tmp / "fixations");
  if (stimuli.empty() || maps.empty()) {
    throw Error(ErrorCode::kData,
                ctx.name + ": the archives gave " + std::to_string(stimuli.size()) +
                    " stimuli and " + std::to_string(maps.size()) +
                    " saliency maps; are they the right files? (check the source URLs)");
  }
  bool fixations_checked = false;
  try {
    pair_files(stimuli, maps);
    fixations_checked = makes_fixation_maps(ctx.name);
    if (fixations_checked) pair_files(stimuli, fixations);
  } catch (const Error& e) {
    // The folder is removed: name the files by their place in the dataset. pair_files speaks
    // of saliency maps, whichever maps it was given.
    std::string message = e.what();
    const auto replace_all = [&message](const std::string& from, const std::string& to) {
      for (auto pos = message.find(from); pos != std::string::npos;
           pos = message.find(from, pos + to.size())) {
        message.replace(pos, from.size(), to);
      }
    };
    replace_all(ctx.tmp.string() + "/", "");
    if (fixations_checked) replace_all("saliency map", "fixation map");
    throw Error(ErrorCode::kData, ctx.name +
                                      ": the archives do not make a complete dataset: " + message +
                                      ". Nothing was installed; are they the right files? (check "
                                      "the source URLs)");
  }
  spdlog::info("{}: {} stimuli, {} saliency maps, {} fixation maps", ctx.name, stimuli.size(),
               maps.size(), fixations.size());
}

// Every `urls` key must name a source: a misspelt one would silently download the original.
void check_url_keys(const std::map<std::string, std::string>& urls) {
  for (const auto& [key, url] : urls) {
    bool known = false;
    std::string keys;
    for (const auto& [name, sources] : source_table()) {
      for (const auto& src : sources) {
        known = known || src.key == key;
        keys += (keys.empty() ? "" : ", ") + src.key;
      }
    }
    if (!known) {
      throw Error(ErrorCode::kConfig, "unknown download source 'urls: " + key +
                                          "' in the configuration; known sources: " + keys);
    }
  }
}

// Where `src` is fetched from: its `urls` override, else its own source.
fetch::Source effective_source(const DatasetSource& src, const PrepareOptions& options) {
  const auto override_it = options.urls.find(src.key);
  if (override_it != options.urls.end()) return fetch::Source{override_it->second, ""};
  return src.source;
}

fs::path downloads_folder(const fs::path& data_root, const PrepareOptions& options) {
  return options.downloads_dir.empty() ? data_root / "downloads" : options.downloads_dir;
}

// Downloads (or finds) every archive of ctx.name into `downloads`, listed in ctx.archives.
void fetch_archives(Context& ctx, const fs::path& downloads, const PrepareOptions& options) {
  for (const auto& src : source_table().at(ctx.name)) {
    ctx.check();
    const fetch::Source source = effective_source(src, options);
    const fs::path dest = downloads / src.file_name;
    spdlog::info("{}: fetching {} ({})", ctx.name, src.file_name,
                 source.gdrive_id.empty() ? source.url : "Google Drive " + source.gdrive_id);
    fetch::download(source, dest, options.download);
    ctx.archives.push_back(dest);
  }
  ctx.check();
}

// Runs the recipe in ctx.tmp, checks the result and renames it to `target`; on any failure
// ctx.tmp is removed.
void build(const Context& ctx, const fs::path& target, const PrepareOptions& options) {
  std::error_code ec;
  try {
    recipe_for(ctx.name)(ctx, options);
    ctx.check();
    fs::remove_all(ctx.work(), ec);
    check_prepared(ctx);
    util::rename_replace(ctx.tmp, target);
  } catch (...) {
    fs::remove_all(ctx.tmp, ec);
    throw;
  }
}

}  // namespace

std::vector<DatasetSource> dataset_sources(const std::string& name) {
  builtin_dataset(name);
  return source_table().at(name);
}

PreparationPlan plan_preparation(const std::string& name, const fs::path& data_root,
                                 const PrepareOptions& options) {
  builtin_dataset(name);
  check_url_keys(options.urls);
  PreparationPlan plan;
  plan.target = data_root / name;
  plan.ready = dataset_ready(plan.target);
  plan.downloads = downloads_folder(data_root, options);
  if (plan.ready) return plan;
  for (const auto& src : source_table().at(name)) {
    const fetch::Source source = effective_source(src, options);
    PlannedDownload d;
    d.key = src.key;
    d.url = fetch::resolve_url(source, options.download.mirror);
    d.file = plan.downloads / src.file_name;
    // The recorded size belongs to the built-in source; an override may serve another file.
    d.bytes =
        source.url == src.source.url && source.gdrive_id == src.source.gdrive_id ? src.bytes : 0;
    std::error_code ec;
    d.present = fs::is_regular_file(d.file, ec);
    const fs::path part = d.file.string() + ".part";
    if (!d.present && fs::is_regular_file(part, ec)) d.partial_bytes = fs::file_size(part, ec);
    plan.archives.push_back(d);
  }
  return plan;
}

bool dataset_ready(const fs::path& dataset_dir) {
  std::error_code ec;
  return fs::is_directory(dataset_dir / "stimuli", ec) &&
         fs::is_directory(dataset_dir / "saliency", ec);
}

bool dataset_ready(const std::string& name, const fs::path& data_root) {
  return dataset_ready(data_root / name);
}

fs::path prepare_dataset(const std::string& name, const fs::path& data_root,
                         const PrepareOptions& options) {
  builtin_dataset(name);
  check_url_keys(options.urls);
  const fs::path target = data_root / name;
  if (dataset_ready(target)) return target;
  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (fs::is_directory(target, ec) && fs::is_empty(target, ec)) {
      fs::remove(target, ec);
    } else {
      throw Error(ErrorCode::kInput, "'" + target.string() +
                                         "' exists but holds no stimuli/ and saliency/ folders: "
                                         "move it away or remove it, then run again");
    }
  }
  fs::create_directories(data_root, ec);
  if (ec) {
    throw Error(ErrorCode::kIo,
                "cannot create data folder '" + data_root.string() + "': " + ec.message());
  }
  const util::ProcessLock lock(data_root / ("." + name + ".lock"), "preparing " + name,
                               ErrorCode::kNetwork);
  if (dataset_ready(target)) return target;
  remove_stale_temps(data_root, name);

  Context ctx;
  ctx.name = name;
  ctx.cancelled =
      options.cancelled ? options.cancelled : [] { return util::interrupt_requested(); };
  ctx.threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const fs::path downloads = downloads_folder(data_root, options);
  fs::create_directories(downloads, ec);
  if (ec) {
    throw Error(ErrorCode::kIo,
                "cannot create downloads folder '" + downloads.string() + "': " + ec.message());
  }
  try {
    fetch_archives(ctx, downloads, options);
    ctx.tmp = make_temp_dir(data_root, name);
    build(ctx, target, options);
  } catch (...) {
    // What was fetched stays for the next run; a folder that holds nothing does not.
    if (fs::is_empty(downloads, ec)) fs::remove(downloads, ec);
    throw;
  }
  if (!options.keep_archives) {
    for (const auto& a : ctx.archives) fs::remove(a, ec);
    if (fs::is_empty(downloads, ec)) fs::remove(downloads, ec);
  }
  spdlog::info("{}: ready in '{}'", name, target.string());
  return target;
}

}  // namespace msinet::data
