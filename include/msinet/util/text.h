#pragma once
// Small text helpers shared by the configuration and the command line: edit distance and the
// nearest of several names, for "did you mean ...?" messages.

#include <string>
#include <vector>

namespace msinet::util {

/// Levenshtein distance: insertions, deletions and substitutions of single characters.
size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate nearest to `name` by edit distance (the first of equals); empty when there are
/// no candidates or the nearest needs more than `max_distance` edits.
std::string closest_match(const std::string& name, const std::vector<std::string>& candidates,
                          size_t max_distance = std::string::npos);

}  // namespace msinet::util
