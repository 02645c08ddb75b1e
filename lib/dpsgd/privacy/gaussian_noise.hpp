#pragma once
// The Gaussian mechanism's noise (Abadi et al. 2016; Dwork & Roth 2014, Thm 3.22
// in its RDP form, Mironov 2017): to the clipped gradient sum S, whose L2
// sensitivity under add/remove-one is Delta, add Z ~ N(0, (sigma * Delta)^2 I),
// drawn independently for every coordinate of every parameter tensor.
// Draws come from this object's own generator seeded from the run's seed, so a
// run is reproducible; they never come from the global generator, which model
// initialisation and other code also consume.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace dpsgd::privacy {

class GaussianNoise {
 public:
  GaussianNoise(std::uint64_t seed, const torch::Device& device);

  /// Adds independent N(0, std^2) noise to every element of every tensor, in place.
  void add_to(std::vector<torch::Tensor>& tensors, double std);
  /// A fresh tensor of N(0, std^2) draws (used by tests).
  torch::Tensor sample(at::IntArrayRef shape, double std, const torch::TensorOptions& options);

 private:
  at::Generator generator_;
};

}  // namespace dpsgd::privacy
