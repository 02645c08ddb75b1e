#pragma once
// How the private step's sums over the examples one process holds become sums
// over the whole batch. In a data-parallel run (distributed/process_sum.hpp)
// each process holds a share of one Poisson batch drawn over the whole data
// set; the clipped per-example gradients are summed locally, the local sums are
// summed across processes, and the Gaussian noise enters exactly once: one
// participant (adds_noise()) adds it to its local sum before the cross-process
// sum. The released vector is then sum_i clip(g_i) + N(0, sigma^2 Delta^2 I),
// the same mechanism, with the same sensitivity Delta under add/remove-one,
// as one process computing it (Abadi et al. 2016, Algorithm 1): which process
// an example's gradient was computed on changes nothing in the sum. The privacy
// code knows nothing else about processes.
#include <vector>

#include <torch/torch.h>

namespace dpsgd::privacy {

class SumReduction {
 public:
  virtual ~SumReduction() = default;
  /// Whether this participant adds the step's noise (exactly one does).
  [[nodiscard]] virtual bool adds_noise() const = 0;
  /// Replaces each tensor (one dtype per call) by its sum over all participants.
  virtual void sum(std::vector<torch::Tensor>& tensors) = 0;
  /// All participants' 1-D tensors, concatenated in participant order.
  [[nodiscard]] virtual torch::Tensor concatenate(const torch::Tensor& local) = 0;
};

}  // namespace dpsgd::privacy
