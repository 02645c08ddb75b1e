#pragma once
// Extracted features on disk, so a sweep (or a rerun) extracts them once. An
// entry is one file <dir>/<key>.pt holding a tensor per data split; the key is a
// hash of the extractor's fingerprint (name, settings, content hash of any file
// it reads) and of the input tensors themselves (what the data files held after
// the configured subset), so a change of extractor, settings, model file or data
// gives a new key and never a stale entry. Entries are written atomically and
// filled under a lock, so concurrent runs extract once and never read half a file.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace dpsgd::features {

/// ~/.cache/dpsgd/features, or $XDG_CACHE_HOME/dpsgd/features.
std::filesystem::path default_cache_dir();

/// The cache key of `fingerprint` applied to `inputs` (one tensor per split; an
/// undefined tensor stands for an empty split).
std::string cache_key(const nlohmann::json& fingerprint, const std::vector<torch::Tensor>& inputs);

class FeatureCache {
 public:
  explicit FeatureCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  [[nodiscard]] std::filesystem::path file(const std::string& key) const;
  /// The entry for `key`, or nullopt; an unreadable entry is dropped with a warning.
  [[nodiscard]] std::optional<std::map<std::string, torch::Tensor>> load(
      const std::string& key) const;
  /// Writes an entry (CPU tensors) atomically, with a JSON note of what it holds.
  void store(const std::string& key, const std::map<std::string, torch::Tensor>& splits,
             const nlohmann::json& about) const;
  /// The extraction time the entry's note recorded (0 when there is none).
  [[nodiscard]] double recorded_extract_seconds(const std::string& key) const;
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace dpsgd::features
