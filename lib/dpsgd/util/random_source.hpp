#pragma once
// A random source owned by one consumer (the sampler, the noise, the masks, the
// microbatch assignment, ...): either seeded, an at::Generator of its own
// (CPU or device) seeded from the consumer's stream (util/seeds.hpp), so a run
// is reproducible and never shares draws with torch's global generator or with
// another consumer; or secure, the OS CSPRNG (util/secure_random.hpp), which
// never touches any torch generator and is not reproducible.
// Seeded draws are torch's own (at::rand, at::randn, torch::randint,
// torch::randperm with this source's generator); secure draws are computed on
// the CPU and copied where asked.
// Copying a source clones its generator: the copy continues the same sequence
// independently of the original.
#include <cstdint>
#include <optional>

#include <torch/torch.h>

#include "dpsgd/util/seeds.hpp"
#include "dpsgd/util/state_map.hpp"

namespace dpsgd::util {

class RandomSource {
 public:
  /// Reproducible draws from a generator of `device`'s type seeded with `seed`.
  static RandomSource seeded(std::uint64_t seed, const torch::Device& device = torch::kCPU);
  /// Draws from getrandom(2).
  static RandomSource secure();

  RandomSource(const RandomSource& other);
  RandomSource& operator=(const RandomSource& other);
  RandomSource(RandomSource&&) noexcept = default;
  RandomSource& operator=(RandomSource&&) noexcept = default;
  ~RandomSource() = default;

  [[nodiscard]] bool is_secure() const { return !generator_.has_value(); }

  /// `count` independent uniforms in [0, 1), CPU float64.
  torch::Tensor uniform(std::int64_t count);
  /// Independent N(0, 1) draws of `shape` with `options` (a seeded source's
  /// generator must be on the options' device).
  torch::Tensor normal(at::IntArrayRef shape, const torch::TensorOptions& options);
  /// `count` independent uniform integers in [0, high), CPU int64.
  torch::Tensor randint(std::int64_t high, std::int64_t count);
  /// A uniformly random permutation of [0, n), CPU int64.
  torch::Tensor randperm(std::int64_t n);

  /// Seeded: {"kind": "seeded"} and the generator's state tensor "generator"
  /// (CPU and device generators alike); secure: {"kind": "secure"} only.
  [[nodiscard]] StateMap state() const;
  /// Restores a state() of a source of the same kind: seeded continues exactly
  /// where the saved source stood; secure is a no-op (nothing to restore).
  /// Throws std::runtime_error when the kinds differ (a secure checkpoint
  /// resumed as a seeded run, or the reverse).
  void load_state(const StateMap& state);

 private:
  RandomSource() = default;
  std::optional<at::Generator> generator_;  ///< empty: the OS CSPRNG
};

/// The source of `stream` for a run: secure when `secure`, else seeded with
/// stream_seed(run_seed, stream) on `device`.
[[nodiscard]] RandomSource stream_source(std::uint64_t run_seed, SeedStream stream, bool secure,
                                         const torch::Device& device = torch::kCPU);

}  // namespace dpsgd::util
