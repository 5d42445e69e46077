#include "msinet/data/splits.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "msinet/util/error.h"
#include "msinet/util/fs.h"

namespace msinet::data {

namespace {

std::string replace_all(std::string s, const std::string& from) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from)) {
    s.erase(pos, from.size());
  }
  return s;
}

std::vector<fs::path> list_required(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(ErrorCode::kInput, "missing " + what + " folder '" + dir.string() +
                                       "': prepare the dataset first (msinet download)");
  }
  auto files = util::list_images(dir);
  if (files.empty()) {
    throw Error(ErrorCode::kInput,
                "no .png/.jpg/.jpeg images in " + what + " folder '" + dir.string() + "'");
  }
  return files;
}

void warn(Split& split, const std::string& message) {
  spdlog::warn("{}", message);
  split.warnings.push_back(message);
}

// Rounds n * num / den to the nearest integer, ties up.
int64_t scaled(int64_t n, int64_t num, int64_t den) { return (2 * n * num + den) / (2 * den); }

void take(const std::vector<FilePair>& pairs, const std::vector<int64_t>& idx, size_t begin,
          size_t end, std::vector<FilePair>& out) {
  for (size_t i = begin; i < end; ++i) out.push_back(pairs[static_cast<size_t>(idx[i])]);
}

// First n_train entries of P(n) train, the rest validate. ref: saliency/data.py MIT1003.load_data
void permutation_split(const std::vector<FilePair>& pairs, int64_t n_train, uint32_t seed,
                       Split& split) {
  const auto perm = legacy_permutation(static_cast<int64_t>(pairs.size()), seed);
  take(pairs, perm, 0, static_cast<size_t>(n_train), split.train);
  take(pairs, perm, static_cast<size_t>(n_train), perm.size(), split.valid);
}

int64_t subset_train_count(int64_t n, const DatasetInfo& info, const fs::path& where) {
  if (n < 2) {
    throw Error(ErrorCode::kInput, "only " + std::to_string(n) + " image pair in '" +
                                       where.string() + "': a split needs at least 2");
  }
  const int64_t n_valid = std::clamp<int64_t>(scaled(n, info.n_valid, info.total), 1, n - 1);
  return n - n_valid;
}

// ref: saliency/data.py CAT2000.load_data (block c of 100: c*100 + P(100)[:80] / [80:])
void per_category_split(const std::vector<FilePair>& pairs, const DatasetInfo& info,
                        const fs::path& dataset_dir, Split& split) {
  const int64_t n = static_cast<int64_t>(pairs.size());
  if (n == info.total) {
    const int64_t block = 100;
    const int64_t ratio_train = info.n_train * block / info.total;
    const int64_t ratio_valid = info.n_valid * block / info.total;
    const auto perm = legacy_permutation(block);
    for (int64_t c = 0; c < n / block; ++c) {
      for (int64_t i = 0; i < ratio_train; ++i) {
        split.train.push_back(pairs[static_cast<size_t>(c * block + perm[i])]);
      }
    }
    for (int64_t c = 0; c < n / block; ++c) {
      for (int64_t i = block - ratio_valid; i < block; ++i) {
        split.valid.push_back(pairs[static_cast<size_t>(c * block + perm[i])]);
      }
    }
    return;
  }
  // A subset: the same rule within each category folder, with its own size.
  std::map<fs::path, std::vector<FilePair>> groups;
  for (const auto& p : pairs) groups[p.first.parent_path()].push_back(p);
  Split valid_part;
  for (const auto& [folder, members] : groups) {
    const int64_t m = static_cast<int64_t>(members.size());
    if (m < 2) {
      split.train.insert(split.train.end(), members.begin(), members.end());
      continue;
    }
    const int64_t m_valid = std::clamp<int64_t>(scaled(m, info.n_valid, info.total), 1, m - 1);
    const auto perm = legacy_permutation(m);
    take(members, perm, 0, static_cast<size_t>(m - m_valid), split.train);
    take(members, perm, static_cast<size_t>(m - m_valid), perm.size(), valid_part.valid);
  }
  split.valid = std::move(valid_part.valid);
  if (split.valid.empty()) {
    throw Error(ErrorCode::kInput, "no category folder under '" + dataset_dir.string() +
                                       "/stimuli' has 2 or more images: cannot draw a split");
  }
}

void builtin_split(const DatasetInfo& info, const fs::path& dataset_dir, Split& split) {
  const fs::path stimuli = dataset_dir / "stimuli";
  const fs::path saliency = dataset_dir / "saliency";
  if (info.rule == SplitRule::kFolders) {
    // ref: saliency/data.py SALICON.load_data
    const auto train_x = list_required(stimuli / "train", "stimuli");
    const auto train_y = list_required(saliency / "train", "saliency");
    const auto valid_x = list_required(stimuli / "val", "stimuli");
    const auto valid_y = list_required(saliency / "val", "saliency");
    const auto train = pair_files(train_x, train_y);
    const auto valid = pair_files(valid_x, valid_y);
    if (static_cast<int64_t>(train.size()) != info.n_train ||
        static_cast<int64_t>(valid.size()) != info.n_valid) {
      warn(split, info.name + ": found " + std::to_string(train.size()) + " training and " +
                      std::to_string(valid.size()) + " validation pairs in '" +
                      dataset_dir.string() + "', the published dataset has " +
                      std::to_string(info.n_train) + " and " + std::to_string(info.n_valid) +
                      ": training on a subset");
    }
    split.train = train;
    split.valid = valid;
    return;
  }
  const auto list_x = list_required(stimuli, "stimuli");
  const auto list_y = list_required(saliency, "saliency");
  const auto pairs = pair_files(list_x, list_y);
  const int64_t n = static_cast<int64_t>(pairs.size());
  if (n != info.total) {
    warn(split, info.name + ": found " + std::to_string(n) + " image pairs in '" +
                    dataset_dir.string() + "', the published dataset has " +
                    std::to_string(info.total) +
                    ": training on a subset, split in the published proportion");
  }
  if (info.rule == SplitRule::kPerCategory) {
    per_category_split(pairs, info, dataset_dir, split);
    return;
  }
  const int64_t n_train = n == info.total ? info.n_train : subset_train_count(n, info, stimuli);
  permutation_split(pairs, n_train, /*seed=*/42, split);
}

std::string relative_key(const fs::path& file, const fs::path& root) {
  return file.lexically_relative(root).generic_string();
}

void user_split(const DatasetSpec& spec, Split& split) {
  const auto list_x = list_required(spec.stimuli_dir, "stimuli");
  const auto list_y = list_required(spec.saliency_dir, "saliency");
  const auto pairs = pair_files(list_x, list_y);
  const int64_t n = static_cast<int64_t>(pairs.size());
  const std::string origin = "dataset file '" + spec.source.string() + "'";
  if (spec.train_list.empty() && spec.valid_list.empty()) {
    if (n < 2) {
      throw Error(ErrorCode::kInput,
                  origin + ": only " + std::to_string(n) + " image pair: a split needs at least 2");
    }
    const auto n_valid = std::clamp<int64_t>(
        static_cast<int64_t>(std::floor(static_cast<double>(n) * spec.valid_fraction + 0.5)), 1,
        n - 1);
    permutation_split(pairs, n - n_valid, spec.seed, split);
    return;
  }
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < pairs.size(); ++i) {
    index[relative_key(pairs[i].first, spec.stimuli_dir)] = i;
  }
  std::vector<int> role(pairs.size(), 0);  // 0 unassigned, 1 train, 2 valid
  const auto assign = [&](const std::vector<std::string>& list, int value, const char* key) {
    for (const auto& entry : list) {
      const std::string k = fs::path(entry).lexically_normal().generic_string();
      const auto it = index.find(k);
      if (it == index.end()) {
        throw Error(ErrorCode::kConfig, origin + ": key '" + key + "': '" + entry +
                                            "' is not an image under '" +
                                            spec.stimuli_dir.string() + "'");
      }
      if (role[it->second] != 0 && role[it->second] != value) {
        throw Error(ErrorCode::kConfig,
                    origin + ": '" + entry + "' is listed under both 'train' and 'valid'");
      }
      role[it->second] = value;
    }
  };
  assign(spec.train_list, 1, "train");
  assign(spec.valid_list, 2, "valid");
  const bool both = !spec.train_list.empty() && !spec.valid_list.empty();
  size_t unused = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    int r = role[i];
    if (r == 0 && !both) r = spec.train_list.empty() ? 1 : 2;
    if (r == 1) split.train.push_back(pairs[i]);
    if (r == 2) split.valid.push_back(pairs[i]);
    if (r == 0) ++unused;
  }
  if (unused > 0) {
    warn(split, spec.name + ": " + std::to_string(unused) +
                    " image pairs are in neither the train nor the valid list and are not used");
  }
  if (split.train.empty() || split.valid.empty()) {
    throw Error(ErrorCode::kConfig,
                origin + ": the lists leave the " +
                    std::string(split.train.empty() ? "training" : "validation") + " set empty");
  }
}

}  // namespace

// ref: numpy/random/mtrand.pyx RandomState.shuffle and distributions.c random_interval
std::vector<int64_t> legacy_permutation(int64_t n, uint32_t seed) {
  std::vector<int64_t> a(static_cast<size_t>(std::max<int64_t>(n, 0)));
  for (int64_t i = 0; i < n; ++i) a[static_cast<size_t>(i)] = i;
  std::mt19937 gen(seed);
  for (int64_t i = n - 1; i >= 1; --i) {
    uint64_t mask = static_cast<uint64_t>(i);
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    uint64_t x = 0;
    if (static_cast<uint64_t>(i) <= 0xffffffffull) {
      do {
        x = static_cast<uint64_t>(gen()) & mask;
      } while (x > static_cast<uint64_t>(i));
    } else {
      do {  // numpy's next_uint64 for MT19937: high word first
        const uint64_t hi = gen();
        x = ((hi << 32) | gen()) & mask;
      } while (x > static_cast<uint64_t>(i));
    }
    std::swap(a[static_cast<size_t>(i)], a[static_cast<size_t>(x)]);
  }
  return a;
}

std::string pairing_stem(const fs::path& path) {
  return replace_all(replace_all(path.stem().string(), "_fixMap"), "_fixPts");
}

// ref: saliency/data.py _check_consistency
std::vector<FilePair> pair_files(const std::vector<fs::path>& stimuli,
                                 const std::vector<fs::path>& maps) {
  const size_t n = std::min(stimuli.size(), maps.size());
  for (size_t i = 0; i < n; ++i) {
    if (pairing_stem(stimuli[i]) != pairing_stem(maps[i])) {
      throw Error(ErrorCode::kInput,
                  "stimulus '" + stimuli[i].string() + "' does not match saliency map '" +
                      maps[i].string() + "' (pair " + std::to_string(i + 1) +
                      " in sorted order): names must agree once the extension and "
                      "_fixMap/_fixPts are removed");
    }
  }
  if (stimuli.size() != maps.size()) {
    const bool more_stimuli = stimuli.size() > maps.size();
    const fs::path& extra = more_stimuli ? stimuli[n] : maps[n];
    throw Error(ErrorCode::kInput, std::to_string(stimuli.size()) + " stimuli but " +
                                       std::to_string(maps.size()) + " saliency maps: '" +
                                       extra.string() + "' has no matching " +
                                       (more_stimuli ? "saliency map" : "stimulus"));
  }
  std::vector<FilePair> pairs;
  pairs.reserve(n);
  for (size_t i = 0; i < n; ++i) pairs.emplace_back(stimuli[i], maps[i]);
  return pairs;
}

Split make_split(const DatasetSpec& spec, const fs::path& dataset_dir) {
  Split split;
  if (spec.builtin) {
    builtin_split(builtin_dataset(spec.name), dataset_dir, split);
  } else {
    user_split(spec, split);
  }
  spdlog::info("{}: {} training and {} validation pairs", spec.name, split.train.size(),
               split.valid.size());
  return split;
}

void write_validation_list(const Split& split, const fs::path& file) {
  std::string text;
  for (const auto& p : split.valid) text += p.first.string() + "\n";
  util::write_file_atomic(file, text);
}

}  // namespace msinet::data
