#pragma once
// The Gaussian mechanism's noise (Abadi et al. 2016; Dwork & Roth 2014, Thm 3.22
// in its RDP form, Mironov 2017): to the clipped gradient sum S, whose L2
// sensitivity under add/remove-one is Delta, add Z ~ N(0, (sigma * Delta)^2 I),
// drawn independently for every coordinate of every parameter tensor.
// By default draws come from this object's own generator seeded from the run's
// seed, so a run is reproducible; they never come from the global generator,
// which model initialisation and other code also consume. The secure source
// (secure_random.hpp) draws from the OS CSPRNG instead: not reproducible, and the
// right choice when the model will be released.
#include <cstdint>
#include <optional>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::privacy {

class GaussianNoise {
 public:
  /// Seeded, reproducible draws on `device`.
  GaussianNoise(std::uint64_t seed, const torch::Device& device);
  /// Draws from the OS CSPRNG (getrandom), copied to the target tensor's device.
  static GaussianNoise secure();

  [[nodiscard]] bool is_secure() const { return !generator_.has_value(); }

  /// Adds independent N(0, std^2) noise to every element of every tensor, in place.
  void add_to(std::vector<torch::Tensor>& tensors, double std);
  /// A fresh tensor of N(0, std^2) draws (used by tests).
  torch::Tensor sample(at::IntArrayRef shape, double std, const torch::TensorOptions& options);

 private:
  GaussianNoise() = default;
  std::optional<at::Generator> generator_;  ///< empty: the secure source
};

}  // namespace dpsgd::privacy
