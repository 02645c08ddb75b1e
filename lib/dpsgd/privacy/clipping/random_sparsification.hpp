#pragma once
// Random sparsification (Zhu & Blaschko, TMLR 2023, "Improving differentially
// private SGD via randomly sparsified gradients"; facts from the paper's code,
// github.com/JunyiZhu-AI/RandomSparsification).
//
// A random coordinate mask M, drawn independently of the data, is applied to
// every per-example gradient *before* clipping: g_i -> clip(M * g_i) by the base
// method (flat, or per-layer with `per_layer: true`). The noise is added only on
// kept coordinates, and dropped coordinates of the update are exactly 0; kept
// coordinates are not rescaled (as in the paper).
//   Mask: exactly floor(r * d) of the model's d coordinates dropped, chosen
//   uniformly without replacement over the whole flattened parameter vector,
//   shared by every example; redrawn `refresh` times per epoch.
//   Gradual cooling: in refresh period p = epoch * refresh + k (k-th period of
//   the epoch, counting from 0) the rate is
//       r_p = final_rate * p / (refresh * epochs - 1),   clamped to [0, final_rate],
//   so the first period keeps everything and the last drops final_rate.
// Privacy: M is public randomness independent of the data, M * g_i clipped has
// norm <= C (sensitivity C under add/remove-one, or sqrt(sum C_l^2) per layer),
// and the dropped coordinates of the release are constant 0. The step is the
// Gaussian mechanism with multiplier sigma on the kept subspace, so epsilon is
// exactly that of dense DP-SGD with the same sigma and q (Zhu & Blaschko, Sec. 4).
// Masks come from a generator seeded by (clipper stream, period): a rerun repeats
// them. Under privacy.secure_rng they come from the OS CSPRNG instead (the
// masks are public, but a mask predictable from the seed is not needed).
#include <cstdint>
#include <memory>
#include <vector>

#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/clipping/clipping_mode.hpp"

namespace dpsgd::privacy {

struct SparsificationSchedule {
  double final_rate = 0.9;
  std::int64_t refresh = 1;  ///< mask redraws per epoch
  std::int64_t steps_per_epoch = 1;
  std::int64_t epochs = 1;

  /// Refresh period of a step (0-based).
  [[nodiscard]] std::int64_t period(std::int64_t step) const;
  /// Dropped fraction in a period.
  [[nodiscard]] double rate(std::int64_t period) const;
};

class RandomSparsificationClipper final : public Clipper {
 public:
  /// `params` gives the shapes, dtypes and device of the masks.
  /// Masks of period p come from stream substream_seed(seed, p), or from the OS
  /// CSPRNG when `secure`.
  RandomSparsificationClipper(std::unique_ptr<Clipper> base, SparsificationSchedule schedule,
                              const std::vector<torch::Tensor>& params, std::uint64_t seed,
                              bool secure = false);
  [[nodiscard]] torch::Tensor factors(const torch::Tensor& sq_norms) const override {
    return base_->factors(sq_norms);
  }
  [[nodiscard]] double sensitivity() const override { return base_->sensitivity(); }
  [[nodiscard]] std::string name() const override { return "random_sparsification"; }
  void begin_step(std::int64_t step) override;
  [[nodiscard]] const std::vector<torch::Tensor>* coordinate_masks() const override {
    return &masks_;
  }
  [[nodiscard]] ClippingNeeds needs() const override { return {true, false}; }
  [[nodiscard]] std::vector<std::pair<std::string, double>> log_values() const override;

  [[nodiscard]] double current_rate() const { return rate_; }
  /// "period" and the current mask ("kept", bool over the flattened
  /// parameters): a restored clipper uses the same mask for the rest of the
  /// period, and the next period's mask is drawn as in an uninterrupted run.
  [[nodiscard]] util::StateMap state() const override;
  void load_state(const util::StateMap& state) override;

 private:
  void redraw(double rate);
  /// Splits a flat 0/1 mask over the parameters (their shapes and options).
  void set_masks(const torch::Tensor& flat);

  std::unique_ptr<Clipper> base_;
  SparsificationSchedule schedule_;
  std::vector<torch::Tensor> params_;  ///< for shapes and options only
  std::uint64_t seed_;
  bool secure_;
  std::vector<torch::Tensor> masks_;
  std::int64_t period_ = -1;
  double rate_ = 0.0;
};

/// YAML mode `random_sparsification`: keys max_grad_norm, per_layer,
/// layer_max_grad_norms, final_rate, refresh.
ClippingMode random_sparsification_clipping_mode();

}  // namespace dpsgd::privacy
