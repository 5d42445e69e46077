#include "msinet/pipeline/plan_cache.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdlib>
#include <map>

#include "msinet/util/fs.h"
#include "msinet/util/process_lock.h"

namespace msinet::pipeline {
namespace {

constexpr const char* kHeader =
    "# msinet's measured runtime plans: the fastest plan per machine and input shape, each\n"
    "# measured once (delete this file to measure again).\n";

using Entries = std::map<std::string, runtime::PlanChoice>;

Entries read_entries(const std::filesystem::path& file) {
  Entries entries;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return entries;
  try {
    const YAML::Node root = YAML::LoadFile(file.string());
    for (const auto& item : root["plans"]) {
      runtime::PlanChoice c;
      c.plan = item["plan"].as<std::string>();
      for (const auto& m : item["ms"]) c.ms[m.first.as<std::string>()] = m.second.as<double>();
      entries[item["key"].as<std::string>()] = c;
    }
  } catch (const std::exception& e) {
    spdlog::warn("ignoring the runtime plan cache '{}' ({}); plans are measured again",
                 file.string(), e.what());
    entries.clear();
  }
  return entries;
}

void write_entries(const std::filesystem::path& file, const Entries& entries) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "plans" << YAML::Value << YAML::BeginSeq;
  for (const auto& [key, c] : entries) {
    out << YAML::BeginMap << YAML::Key << "key" << YAML::Value << key << YAML::Key << "plan"
        << YAML::Value << c.plan << YAML::Key << "ms" << YAML::Value << YAML::Flow
        << YAML::BeginMap;
    for (const auto& [name, ms] : c.ms)
      out << YAML::Key << name << YAML::Value << std::round(ms * 10) / 10;
    out << YAML::EndMap << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  util::write_file_atomic(file, std::string(kHeader) + out.c_str() + "\n");
}

std::string timings(const runtime::PlanChoice& c) {
  std::string s;
  for (const auto& [name, ms] : c.ms) {
    s += (s.empty() ? "" : ", ") + name + " " + std::to_string(static_cast<int64_t>(ms + 0.5)) +
         " ms";
  }
  return s;
}

}  // namespace

std::filesystem::path default_plan_cache() {
  if (const char* f = std::getenv("MSINET_PLAN_CACHE"); f && *f) return f;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::filesystem::path(x) / "msinet" / "runtime-plans.yaml";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::filesystem::path(h) / ".cache" / "msinet" / "runtime-plans.yaml";
  return ".msinet-runtime-plans.yaml";
}

PlanCache::PlanCache(std::filesystem::path file) : file_(std::move(file)) {}

runtime::PlanChoice PlanCache::choose(const std::string& key,
                                      const std::function<runtime::PlanChoice()>& measure) {
  if (const Entries known = read_entries(file_); known.count(key)) return known.at(key);
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path().empty() ? "." : file_.parent_path(), ec);
  const util::ProcessLock lock(file_.string() + ".lock", "measuring runtime plans", ErrorCode::kIo,
                               /*wait=*/true);
  Entries entries = read_entries(file_);  // another process may have measured meanwhile
  if (const auto hit = entries.find(key); hit != entries.end()) return hit->second;
  spdlog::info(
      "runtime: measuring the plans for this input shape (once on this machine; kept in "
      "'{}')",
      file_.string());
  const runtime::PlanChoice choice = measure();
  spdlog::info("runtime: {} -> {}", timings(choice), choice.plan);
  entries[key] = choice;
  try {
    write_entries(file_, entries);
  } catch (const std::exception& e) {
    spdlog::warn("could not keep the measured plan in '{}' ({}); it is measured again next time",
                 file_.string(), e.what());
  }
  return choice;
}

}  // namespace msinet::pipeline
