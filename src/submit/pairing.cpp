#include "msinet/submit/pairing.h"

#include <map>
#include <set>
#include <system_error>

#include "msinet/util/fs.h"

namespace msinet::submit {

namespace {

/// A file below a root folder: its path, its path below the root, and that path's stem.
struct Found {
  fs::path path;
  fs::path relative;
  std::string stem;  ///< relative path without extension, '/'-separated
  size_t depth = 0;  ///< folders between the root and the file
};

std::vector<Found> regular_files(const fs::path& root) {
  std::vector<Found> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    Found f;
    f.path = it->path();
    f.relative = f.path.lexically_relative(root);
    f.stem = (f.relative.parent_path() / f.relative.stem()).generic_string();
    f.depth = static_cast<size_t>(std::distance(f.relative.begin(), f.relative.end())) - 1;
    out.push_back(std::move(f));
  }
  return out;
}

std::string top_folder(const Found& f) { return f.relative.begin()->string(); }

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

std::string plural(size_t n, const std::string& word) {
  if (word == "stimulus") return std::to_string(n) + (n == 1 ? " stimulus" : " stimuli");
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

bool is_map_file(const fs::path& path) {
  const std::string ext = util::to_lower(path.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".npy";
}

Pairing pair_maps(const fs::path& stimuli_dir, const fs::path& maps_dir, Layout layout,
                  size_t max_stimuli) {
  Pairing result;
  auto& problems = result.problems;

  std::vector<Found> images;
  for (Found& f : regular_files(stimuli_dir)) {
    if (util::has_image_extension(f.path)) images.push_back(std::move(f));
  }
  if (images.empty()) {
    problems.push_back("no stimuli (.jpg, .jpeg or .png files) in " + quoted(stimuli_dir));
    return result;
  }
  size_t flat = 0;
  size_t nested = 0;
  for (const Found& f : images) {
    if (f.depth == 0) ++flat;
    if (f.depth == 1) ++nested;
  }
  bool categories = layout == Layout::kCategories;
  if (layout == Layout::kEither) {
    categories = nested > 0 && flat == 0;
    if (flat > 0 && nested > 0) {
      problems.push_back(quoted(stimuli_dir) + " holds " + plural(flat, "image") +
                         " directly and " + plural(nested, "image") +
                         " in folders; the stimuli are either one folder of images (MIT300) or "
                         "one folder per category (CAT2000)");
    }
  }
  result.categories = categories;

  // Stimuli outside the layout's folders, counted per top-level folder.
  std::map<std::string, size_t> misplaced;
  std::map<std::string, Found> stimuli;
  std::map<std::string, size_t> per_category;
  for (Found& f : images) {
    const size_t want = categories ? 1 : 0;
    if (f.depth != want) {
      ++misplaced[f.depth == 0 ? std::string() : top_folder(f)];
      continue;
    }
    if (const auto at = stimuli.find(f.stem); at != stimuli.end()) {
      problems.push_back("two stimuli share the name '" + f.stem + "': " + quoted(at->second.path) +
                         " and " + quoted(f.path) + " (their maps would have one name)");
      continue;
    }
    if (categories) ++per_category[top_folder(f)];
    stimuli.emplace(f.stem, std::move(f));
  }
  for (const auto& [folder, count] : misplaced) {
    if (folder.empty()) {
      problems.push_back(plural(count, "image") + " lie directly in " + quoted(stimuli_dir) +
                         ", but the stimuli must be in category folders (" +
                         (stimuli_dir / "<category>/<image>").string() +
                         ", as CAT2000's test set is)");
    } else {
      problems.push_back(quoted(stimuli_dir / folder) + " holds " + plural(count, "image") +
                         (categories ? " below category level; the stimuli must be "
                                       "<category>/<image>"
                                     : " in a folder; the stimuli must be one flat folder of "
                                       "images (as MIT300's test set is; category folders are "
                                       "CAT2000's layout)"));
    }
  }
  if (stimuli.size() > max_stimuli) {
    problems.push_back(quoted(stimuli_dir) + " holds " + plural(stimuli.size(), "stimulus") +
                       ", more than the " + std::to_string(max_stimuli) +
                       " accepted; is this the benchmark's test set?");
    return result;
  }

  // The maps, by stem; whole folders the stimuli do not have are reported once.
  std::map<std::string, std::vector<Found>> maps;
  std::map<std::string, size_t> extra_folders;
  for (Found& f : regular_files(maps_dir)) {
    if (f.depth > 0 && (!categories || per_category.count(top_folder(f)) == 0)) {
      ++extra_folders[top_folder(f)];
      continue;
    }
    if (!is_map_file(f.path) || stimuli.count(f.stem) == 0) {
      problems.push_back("extra file " + quoted(f.path) +
                         (is_map_file(f.path)
                              ? ": no stimulus '" + f.stem + "' in " + quoted(stimuli_dir)
                              : ": not a map (.jpg, .jpeg, .png or .npy)") +
                         "; remove it");
      continue;
    }
    maps[f.stem].push_back(std::move(f));
  }
  for (const auto& [folder, count] : extra_folders) {
    problems.push_back("extra folder " + quoted(maps_dir / folder) + " (" + plural(count, "file") +
                       "): " +
                       (categories ? "no category '" + folder + "' in " + quoted(stimuli_dir)
                                   : std::string("the maps must be one flat folder")) +
                       "; remove it");
  }
  std::set<std::string> missing_folders;
  for (const auto& [category, count] : per_category) {
    std::error_code ec;
    if (!fs::is_directory(maps_dir / category, ec)) {
      missing_folders.insert(category);
      problems.push_back("missing folder " + quoted(maps_dir / category) + " for the " +
                         plural(count, "stimulus") + " of " + quoted(stimuli_dir / category));
    }
  }
  for (const auto& [stem, stimulus] : stimuli) {
    const auto at = maps.find(stem);
    if (at == maps.end()) {
      if (categories && missing_folders.count(top_folder(stimulus)) > 0) continue;
      problems.push_back("no map for stimulus " + quoted(stimulus.path) + " (expected " +
                         (maps_dir / stem).string() + ".jpg, .jpeg, .png or .npy)");
      continue;
    }
    if (at->second.size() > 1) {
      std::string names;
      for (const Found& m : at->second) names += (names.empty() ? "" : " and ") + quoted(m.path);
      problems.push_back("two maps for stimulus " + quoted(stimulus.path) + ": " + names +
                         "; keep one");
      continue;
    }
    result.pairs.push_back({stimulus.path, at->second.front().path, stem});
  }
  return result;
}

std::vector<std::string> suffix_ambiguities(const std::vector<std::string>& stems) {
  const std::set<std::string> all(stems.begin(), stems.end());
  std::map<std::string, std::vector<std::string>> longer;  // stimulus stem -> stems ending in it
  for (const std::string& s : all) {
    for (size_t k = 1; k < s.size(); ++k) {
      const std::string tail = s.substr(k);
      if (all.count(tail) > 0) longer[tail].push_back(s);
    }
  }
  std::vector<std::string> out;
  for (const auto& [stem, others] : longer) {
    std::string names;
    for (const std::string& o : others) names += (names.empty() ? "'" : ", '") + o + "'";
    out.push_back("the benchmark's loader takes for stimulus '" + stem +
                  "' the one file whose name ends with '" + stem + "', but " + names +
                  (others.size() == 1 ? " ends" : " end") +
                  " with it too; rename the stimuli (and maps) so that no name ends with "
                  "another");
  }
  return out;
}

}  // namespace msinet::submit
