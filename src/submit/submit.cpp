#include "msinet/submit/submit.h"

#include <system_error>
#include <vector>

#include "msinet/data/image.h"
#include "msinet/submit/map_check.h"
#include "msinet/submit/pairing.h"
#include "msinet/submit/zip_writer.h"
#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::submit {

namespace {

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

fs::path key(const fs::path& p) {
  std::error_code ec;
  const fs::path k = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : k;
}

/// True when `p` is `root` or lies below it (both canonical).
bool within(const fs::path& p, const fs::path& root) {
  auto r = root.begin();
  auto i = p.begin();
  for (; r != root.end(); ++r, ++i) {
    if (i == p.end() || *i != *r) return false;
  }
  return true;
}

/// Problems that keep run_submit from starting, by exit code.
struct Problems {
  std::vector<std::string> usage;
  std::vector<std::string> input;
  size_t size() const { return usage.size() + input.size(); }
};

void check_folder(const fs::path& dir, const std::string& what, Problems& problems) {
  std::error_code ec;
  if (dir.empty()) {
    problems.usage.push_back("no " + what + " folder given");
  } else if (!fs::exists(dir, ec)) {
    problems.input.push_back("the " + what + " folder " + quoted(dir) + " does not exist");
  } else if (!fs::is_directory(dir, ec)) {
    problems.input.push_back("the " + what + " " + quoted(dir) + " is not a folder");
  }
}

void check_output(const SubmitOptions& o, const std::string& folder_name, Problems& problems) {
  if (util::to_lower(o.output.extension().string()) != ".zip") {
    problems.usage.push_back("the output " + quoted(o.output) + " must be a .zip file");
  }
  std::error_code ec;
  if (fs::is_directory(o.output, ec)) {
    problems.usage.push_back("the output " + quoted(o.output) + " is a folder");
  }
  const fs::path out = key(o.output);
  const fs::path maps = key(o.maps_dir);
  const fs::path stimuli = key(o.stimuli_dir);
  if (!o.maps_dir.empty() && within(out, maps)) {
    problems.usage.push_back("the output " + quoted(o.output) + " lies in the maps folder " +
                             quoted(o.maps_dir) + "; write it elsewhere");
  }
  if (!o.stimuli_dir.empty() && within(out, stimuli)) {
    problems.usage.push_back("the output " + quoted(o.output) + " lies in the stimuli folder " +
                             quoted(o.stimuli_dir) + "; write it elsewhere");
  }
  if (!o.maps_dir.empty() && !o.stimuli_dir.empty() &&
      (within(maps, stimuli) || within(stimuli, maps))) {
    problems.usage.push_back("the maps folder " + quoted(o.maps_dir) + " and the stimuli folder " +
                             quoted(o.stimuli_dir) +
                             " overlap; keep the maps in a folder of their own");
  }
  if (o.benchmark != Benchmark::kTuebingen &&
      (folder_name.empty() || folder_name == "." || folder_name == ".." ||
       folder_name.find_first_of("/\\") != std::string::npos)) {
    problems.usage.push_back("the package's folder name '" + folder_name +
                             "' must be one plain folder name (--name)");
  }
}

std::string package_layout(Benchmark b, bool categories, const std::string& folder) {
  const std::string prefix = b == Benchmark::kTuebingen ? "" : folder + "/";
  const std::string ext = b == Benchmark::kTuebingen ? ".npy" : ".jpg";
  return prefix + (categories ? "<category>/" : "") + "<image>" + ext;
}

}  // namespace

Benchmark parse_benchmark(const std::string& name) {
  const std::string n = util::to_lower(name);
  if (n == "mit300") return Benchmark::kMit300;
  if (n == "cat2000") return Benchmark::kCat2000;
  if (n == "tuebingen") return Benchmark::kTuebingen;
  throw Error(ErrorCode::kUsage,
              "unknown benchmark '" + name + "'; use mit300, cat2000 or tuebingen");
}

std::string benchmark_name(Benchmark benchmark) {
  switch (benchmark) {
    case Benchmark::kMit300:
      return "mit300";
    case Benchmark::kCat2000:
      return "cat2000";
    case Benchmark::kTuebingen:
      break;
  }
  return "tuebingen";
}

SubmitResult run_submit(const SubmitOptions& o) {
  const std::string folder_name = o.name.empty() ? o.output.stem().string() : o.name;
  const MapTarget target =
      o.benchmark == Benchmark::kTuebingen ? MapTarget::kLogDensityNpy : MapTarget::kGrayJpeg;
  const Layout layout = o.benchmark == Benchmark::kMit300    ? Layout::kFlat
                        : o.benchmark == Benchmark::kCat2000 ? Layout::kCategories
                                                             : Layout::kEither;
  Problems problems;
  check_folder(o.maps_dir, "maps", problems);
  check_folder(o.stimuli_dir, "stimuli", problems);
  check_output(o, folder_name, problems);

  Pairing pairing;
  std::vector<Conversion> conversions;
  uint64_t content_bytes = 0;
  if (problems.size() == 0) {
    pairing = pair_maps(o.stimuli_dir, o.maps_dir, layout, o.max_stimuli);
    problems.input = pairing.problems;
    if (o.benchmark == Benchmark::kTuebingen) {
      std::vector<std::string> stems;
      for (const Pair& p : pairing.pairs) stems.push_back(p.stem);
      for (std::string& line : suffix_ambiguities(stems)) problems.input.push_back(line);
    }
    const fs::path out = key(o.output);
    for (const Pair& p : pairing.pairs) {
      if (key(p.map) == out || key(p.stimulus) == out) {
        problems.usage.push_back("the output " + quoted(o.output) + " would replace the input " +
                                 quoted(key(p.map) == out ? p.map : p.stimulus));
      }
      const data::Size2 size = data::read_image_dimensions(p.stimulus);
      if (size.h <= 0 || size.w <= 0) {
        problems.input.push_back("cannot read the size of stimulus " + quoted(p.stimulus) +
                                 " from its header (not a JPEG or PNG file, or damaged)");
        conversions.push_back(Conversion::kCopy);
        continue;
      }
      if (static_cast<int64_t>(size.h) * size.w > data::max_image_pixels()) {
        problems.input.push_back(
            "stimulus " + quoted(p.stimulus) + " is " + std::to_string(size.h) + "x" +
            std::to_string(size.w) +
            ", over the limit of the key max_image_megapixels; raise it to package its map");
        conversions.push_back(Conversion::kCopy);
        continue;
      }
      MapCheck c = check_map(p.map, size, target);
      for (std::string& line : c.problems) problems.input.push_back(std::move(line));
      conversions.push_back(c.conversion);
      std::error_code ec;
      content_bytes += fs::file_size(p.map, ec);
    }
    if (content_bytes > o.max_bytes) {
      problems.input.push_back("the maps add up to " + std::to_string(content_bytes) +
                               " bytes, over the package limit of " + std::to_string(o.max_bytes) +
                               " bytes (--max-mb " + std::to_string(o.max_bytes >> 20) + ")");
    }
  }
  if (problems.size() > 0) {
    const size_t n = problems.size();
    std::string message = "submit " + benchmark_name(o.benchmark) + ": nothing written; " +
                          std::to_string(n) + (n == 1 ? " problem:" : " problems:");
    for (const std::string& line : problems.usage) message += "\n  " + line;
    for (const std::string& line : problems.input) message += "\n  " + line;
    throw Error(problems.usage.empty() ? ErrorCode::kInput : ErrorCode::kUsage, message);
  }

  SubmitResult result;
  result.layout = package_layout(o.benchmark, pairing.categories, folder_name);
  const std::string prefix = o.benchmark == Benchmark::kTuebingen ? "" : folder_name + "/";
  std::error_code ec;
  if (!o.output.parent_path().empty()) fs::create_directories(o.output.parent_path(), ec);
  util::ScratchDir scratch(o.output);
  std::vector<ZipEntry> entries;
  content_bytes = 0;
  for (size_t i = 0; i < pairing.pairs.size(); ++i) {
    const Pair& p = pairing.pairs[i];
    ZipEntry e;
    e.name = prefix + p.stem + package_extension(target);
    e.compress = target == MapTarget::kLogDensityNpy;
    if (conversions[i] == Conversion::kCopy) {
      e.source = p.map;
      content_bytes += fs::file_size(p.map, ec);
    } else {
      const std::string bytes = converted_bytes(p.map, conversions[i]);
      e.source = scratch.path() / (std::to_string(i) + package_extension(target));
      util::write_file_atomic(e.source, bytes);
      content_bytes += bytes.size();
      ++result.converted;
    }
    if (content_bytes > o.max_bytes) {
      throw Error(ErrorCode::kInput, "submit " + benchmark_name(o.benchmark) +
                                         ": nothing written; the converted maps add up to more "
                                         "than the package limit of " +
                                         std::to_string(o.max_bytes >> 20) + " MiB (--max-mb)");
    }
    entries.push_back(std::move(e));
  }
  if (result.converted > 0) {
    result.conversion = target == MapTarget::kGrayJpeg
                            ? "encoded as grayscale JPEG, quality 100 (from .png or .npy)"
                            : "re-encoded as 2-D C-order .npy arrays, values unchanged";
  }
  result.archive_bytes = write_zip_atomic(o.output, entries);
  result.maps = entries.size();
  result.content_bytes = content_bytes;
  return result;
}

}  // namespace msinet::submit
