#pragma once
// Gradient canaries: the white-box audit of the mechanism (Steinke, Nasr,
// Jagielski 2023, Sec. 6 and Algorithm 1 with "gradient space" canaries). Canary
// i is a fixed random direction u_i (uniform on the unit sphere of the trainable
// parameters, in privacy::PrivateModel order) and is included with probability
// 1/2. An included canary joins each step's batch with the step's Poisson rate
// q and contributes Delta * u_i to the clipped sum (norm Delta, the clipper's
// sensitivity: the largest contribution any example can have), so the run's
// (eps, delta) covers each canary exactly as it covers each example
// (privacy/injected_examples.hpp). The score of canary i is the final model's
// movement along it relative to a reference model R trained without canaries,
// <theta_R - theta_T, u_i> (audit_run.hpp; theta_R = theta_0 gives the plain
// movement): the steps subtract the noisy sum scaled by lr / (q N), so an
// included canary pushes the weights against u_i, and its score is larger.
// Randomness: membership from SeedStream::kAuditMembership; directions and each
// step's inclusion coins from sub-streams of SeedStream::kAuditCanaries, each a
// function of (seed, canary) or (seed, step) alone, so a resumed run injects
// exactly what the uninterrupted one would have.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/privacy/injected_examples.hpp"

namespace dpsgd::audit {

/// m membership bits, each 1 with probability 1/2, from the seed's
/// kAuditMembership stream.
[[nodiscard]] std::vector<bool> draw_membership(std::uint64_t seed, std::int64_t m);

class GradientCanaries final : public privacy::InjectedExamples {
 public:
  /// `names` and `shapes`: the trainable parameters in the private step's order.
  GradientCanaries(std::uint64_t seed, std::vector<bool> included, std::vector<std::string> names,
                   std::vector<std::vector<std::int64_t>> shapes);

  std::int64_t add_to(std::vector<torch::Tensor>& sums, std::int64_t step, double q,
                      double sensitivity) override;

  /// <theta_R - theta_T, u_i> for every canary; the maps hold at least the
  /// parameters named at construction (state-dict names).
  [[nodiscard]] std::vector<double> scores(
      const std::map<std::string, torch::Tensor>& reference,
      const std::map<std::string, torch::Tensor>& final_weights) const;

  /// u_i as one float64 vector of all parameters (unit norm).
  [[nodiscard]] torch::Tensor direction(std::int64_t canary) const;
  [[nodiscard]] const std::vector<bool>& included() const { return included_; }
  /// Injections made by this object (the steps it saw).
  [[nodiscard]] std::int64_t injections() const { return injections_; }
  /// Injections over steps 0 .. steps-1 at rate q, replayed from the coins (a
  /// function of (seed, step)): the count of a run resumed or reused as well.
  [[nodiscard]] std::int64_t count_injections(std::int64_t steps, double q) const;

 private:
  [[nodiscard]] torch::Tensor coins(std::int64_t step) const;

  std::uint64_t seed_;
  std::vector<bool> included_;
  std::vector<std::string> names_;
  std::vector<std::vector<std::int64_t>> shapes_;
  std::int64_t dimension_ = 0;
  std::int64_t injections_ = 0;
};

}  // namespace dpsgd::audit
