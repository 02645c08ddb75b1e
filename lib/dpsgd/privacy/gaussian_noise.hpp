#pragma once
// The Gaussian mechanism's noise (Abadi et al. 2016; Dwork & Roth 2014, Thm 3.22
// in its RDP form, Mironov 2017): to the clipped gradient sum S, whose L2
// sensitivity under add/remove-one is Delta, add Z ~ N(0, (sigma * Delta)^2 I),
// drawn independently for every coordinate of every parameter tensor.
// Draws come from this object's own random source (util/random_source.hpp):
// seeded from the run's noise stream, so a run is reproducible and the draws
// never come from the global generator, which model initialisation and other
// code also consume; or secure (the OS CSPRNG, privacy.secure_rng): not
// reproducible, and the right choice when the model will be released.
#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/state_map.hpp"

namespace dpsgd::privacy {

class GaussianNoise {
 public:
  explicit GaussianNoise(util::RandomSource source) : source_(std::move(source)) {}
  /// Seeded, reproducible draws on `device`.
  GaussianNoise(std::uint64_t seed, const torch::Device& device);
  /// Draws from the OS CSPRNG (getrandom), copied to the target tensor's device.
  static GaussianNoise secure();

  [[nodiscard]] bool is_secure() const { return source_.is_secure(); }

  /// Adds independent N(0, std^2) noise to every element of every tensor, in place.
  void add_to(std::vector<torch::Tensor>& tensors, double std);
  /// A fresh tensor of N(0, std^2) draws.
  torch::Tensor sample(at::IntArrayRef shape, double std, const torch::TensorOptions& options);

  /// The source's state (RandomSource::state), for checkpoints.
  [[nodiscard]] util::StateMap state() const { return source_.state(); }
  /// Restores a state(); throws std::runtime_error on a seeded/secure mismatch.
  void load_state(const util::StateMap& state) { source_.load_state(state); }

 private:
  util::RandomSource source_;
};

}  // namespace dpsgd::privacy
