#include "dpsgd/features/feature_cache.hpp"

#include <cstdlib>
#include <fstream>

#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/content_hash.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/state_file.hpp"

namespace dpsgd::features {

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "dpsgd" / "features";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "dpsgd" / "features";
  }
  return std::filesystem::path(".dpsgd-cache") / "features";
}

std::string cache_key(const nlohmann::json& fingerprint, const std::vector<torch::Tensor>& inputs) {
  util::ContentHash hash;
  hash.add(fingerprint.dump());
  for (const auto& t : inputs) {
    if (t.defined()) {
      hash.add(t);
    } else {
      hash.add(std::string_view("empty split"));
    }
  }
  return hash.hex();
}

std::filesystem::path FeatureCache::file(const std::string& key) const {
  return dir_ / (key + ".pt");
}

std::optional<std::map<std::string, torch::Tensor>> FeatureCache::load(
    const std::string& key) const {
  const auto path = file(key);
  if (!std::filesystem::exists(path)) return std::nullopt;
  try {
    return util::load_tensor_dict(path);
  } catch (const std::runtime_error& e) {
    util::log::warn("feature cache " + path.string() + " unreadable (" + e.what() +
                    "): extracting again");
    return std::nullopt;
  }
}

double FeatureCache::recorded_extract_seconds(const std::string& key) const {
  std::ifstream in(dir_ / (key + ".json"));
  const auto note = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!note.is_object() || !note.contains("extract_seconds")) return 0.0;
  return note["extract_seconds"].is_number() ? note["extract_seconds"].get<double>() : 0.0;
}

void FeatureCache::store(const std::string& key, const std::map<std::string, torch::Tensor>& splits,
                         const nlohmann::json& about) const {
  std::filesystem::create_directories(dir_);
  std::map<std::string, torch::Tensor> cpu;
  for (const auto& [name, t] : splits) cpu[name] = t.to(torch::kCPU).contiguous();
  util::save_tensor_dict(file(key), cpu);
  util::write_file_atomically(dir_ / (key + ".json"), about.dump(2) + "\n");
}

}  // namespace dpsgd::features
