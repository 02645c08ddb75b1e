#pragma once
// A 64-bit content hash for cache keys (the feature cache: extractor settings,
// model files, data tensors). Not cryptographic: it guards against stale caches,
// not against an adversary who can write the cache folder.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <torch/torch.h>

namespace dpsgd::util {

class ContentHash {
 public:
  /// Mixes `size` bytes into the hash (word at a time, SplitMix64 finaliser).
  ContentHash& add(const void* data, std::size_t size);
  ContentHash& add(std::string_view text);
  /// A tensor's dtype, shape and bytes (a contiguous CPU copy when needed).
  ContentHash& add(const torch::Tensor& tensor);
  /// A file's bytes, read in blocks; throws std::runtime_error when it cannot be read.
  ContentHash& add_file(const std::filesystem::path& path);

  [[nodiscard]] std::uint64_t value() const { return state_; }
  /// 16 lower-case hex digits.
  [[nodiscard]] std::string hex() const;

 private:
  std::uint64_t state_ = 0x6470736764686173ULL;  // "dpsgdhas"
  std::uint64_t length_ = 0;
};

}  // namespace dpsgd::util
