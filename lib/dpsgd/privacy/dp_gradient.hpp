#pragma once
// One DP-SGD gradient (Abadi et al. 2016, Algorithm 1), given a batch drawn by
// Poisson sampling with rate q (data/sampling/poisson_sampler.hpp):
//   g~ = ( sum_{i in batch} clip(grad_i)  +  N(0, (sigma * Delta)^2 I) ) / (q N)
// where Delta is the clipper's add/remove-one sensitivity and q N is the
// *expected* batch size (a fixed public constant; dividing by the drawn size
// would leak it and break the analysis). The batch is processed in physical
// chunks whose clipped sums are added before the noise is drawn once, so memory
// is bounded whatever size the Poisson draw has. The noise is drawn even for
// an empty batch: the accountant counts every step.
// This is exactly the mechanism the accountants analyse for one step
// (Mironov, Talwar, Zhang 2019 for RDP): add/remove-one neighbours, Poisson
// sampling at rate q, Gaussian noise of std sigma * Delta; the accountant is
// told (sigma, q) by this class itself, after the noise was drawn.
//
// Variants, each keeping "noise std = sigma_g * Delta" with the accountant told sigma:
//  - clippers that release a statistic (adaptive) get sigma_g < sigma so the
//    step as a whole has multiplier sigma (Clipper::gradient_noise_multiplier);
//  - coordinate masks (random sparsification) zero the noise on dropped
//    coordinates, where the release is the constant 0;
//  - microbatches (TF Privacy): each sampled example goes to one of m
//    microbatches uniformly at random (independently of the other examples, so
//    adding one example changes one microbatch), each microbatch's mean
//    gradient is clipped, Delta = 2C, and the sum is divided by m, the public
//    number of microbatches. TF Privacy's noise_multiplier z with microbatches
//    equals dpsgd's sigma = z / 2: the same noise std z C and the same epsilon.
//
// Robust clipping (per_example/finite_examples.hpp): an example (a microbatch,
// with microbatches) whose gradient is not finite contributes exactly 0 to the
// clipped sum and is counted in DpStepStats::nonfinite. The sensitivity bound
// still holds, since each example's contribution is either clipped to the
// clipper's bound or 0, decided by that example alone.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd/accounting/accountant.hpp"
#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/gaussian_noise.hpp"
#include "dpsgd/privacy/injected_examples.hpp"
#include "dpsgd/privacy/per_example/gradient_engine.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/privacy/sum_reduction.hpp"
#include "dpsgd/util/autocast.hpp"
#include "dpsgd/util/phase_clock.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/state_map.hpp"

namespace dpsgd::privacy {

struct DpGradientOptions {
  /// sigma: the multiplier of the whole step, the one the accountant records.
  double noise_multiplier = 1.0;
  std::int64_t expected_batch_size = 1;  ///< q N, the divisor of the noisy sum
  std::int64_t dataset_size = 1;         ///< N, so q = expected_batch_size / N
  std::int64_t physical_batch_size = 0;  ///< chunk size; 0 = whole batch at once
  std::int64_t microbatches = 0;         ///< m > 0: TF-Privacy-style microbatches
  /// Engine registry key or auto; resolved against the clipper by choose_engine.
  std::string engine = "auto";
  std::uint64_t seed = 0;  ///< the microbatch assignment's stream seed (seeded mode)
  /// privacy.secure_rng: the microbatch assignment comes from the OS CSPRNG, and
  /// the noise source handed in must be secure too (checked).
  bool secure_rng = false;
  /// Augmentation multiplicity K: every example of a chunk becomes K views
  /// (set_view_maker), whose mean gradient is its per-example gradient. The
  /// sensitivity is the clipper's, unchanged: each example still contributes one
  /// clipped vector. Memory grows with K times the physical batch.
  std::int64_t views = 1;
  util::Precision precision = util::Precision::kFloat32;
};

/// Makes the K views of a chunk: (x, y) of B examples in, (B K)-row (x, y) out,
/// example i's views in rows i K .. i K + K - 1. `first` is the chunk's first
/// example's index in the batch handed to compute(), so that a view's random
/// transformation can depend on its place in the batch alone, not on the chunking.
using ViewMaker = std::function<std::pair<torch::Tensor, torch::Tensor>(
    const torch::Tensor& x, const torch::Tensor& y, std::int64_t first)>;

/// What one step saw (sums over the drawn batch; nothing here is privatised:
/// it is for the researcher's logs, like Opacus' training loss).
struct DpStepStats {
  std::int64_t batch_size = 0;  ///< the whole batch (all participants' shares)
  double loss_sum = 0.0;
  double score_sum = 0.0;
  double norm_sum = 0.0;
  std::int64_t clipped = 0;  ///< finite examples with a factor below 1
  /// Examples (microbatches, with microbatches) whose gradient was not finite
  /// and contributed nothing; norm_sum leaves their norms out.
  std::int64_t nonfinite = 0;
  double noise_std = 0.0;  ///< the std of the noise added to the gradient sum
  /// The clipper's per-step values (threshold, sparsification rate), as used in this step.
  std::vector<std::pair<std::string, double>> clipper_values;
};

/// The private step. It owns the step's privacy invariants: q is computed once
/// here (data::poisson_sample_rate), the accountant is told every step with the
/// same sigma and q that the noise used, and check_sampler() refuses a sampler
/// that is not Poisson at that q.
class DpGradient {
 public:
  /// Builds the engine (choose_engine) over this object's own copies, so the
  /// engine's references stay valid for its whole life (the object is not
  /// movable). Throws std::invalid_argument for impossible settings.
  DpGradient(PrivateModel model, std::shared_ptr<const models::Objective> objective,
             std::shared_ptr<Clipper> clipper, GaussianNoise noise,
             std::unique_ptr<accounting::Accountant> accountant, const DpGradientOptions& options);
  DpGradient(const DpGradient&) = delete;
  DpGradient& operator=(const DpGradient&) = delete;
  DpGradient(DpGradient&&) = delete;
  DpGradient& operator=(DpGradient&&) = delete;
  ~DpGradient() = default;

  /// Throws std::logic_error unless `sampler` draws Poisson batches at exactly
  /// this step's q: the accountant's analysis holds for nothing else. Until a
  /// sampler has passed, epsilon() refuses to answer.
  void check_sampler(const data::BatchSampler& sampler);

  /// Data-parallel runs: (x, y) handed to compute() is this participant's share
  /// of the batch, and `reduction` sums the shares (sum_reduction.hpp). Call
  /// before the first step. Throws std::invalid_argument for the settings whose
  /// randomness the participants could not agree on without it being drawn
  /// once: microbatches (the assignment spans the whole batch), and secure_rng
  /// with a clipper that draws its own secure randomness (adaptive clipping's
  /// count noise, random sparsification's masks).
  void set_reduction(std::shared_ptr<SumReduction> reduction);

  /// Examples whose clipped gradients are given (injected_examples.hpp): the
  /// audit's gradient canaries, added to the clipped sum before the noise by the
  /// participant that adds the noise. Call before the first step. Throws
  /// std::invalid_argument with microbatches (a canary is an example, not a
  /// microbatch) and with clippers that count examples (adaptive clipping would
  /// need the canaries' norms in its count).
  void set_injected(std::shared_ptr<InjectedExamples> injected);

  /// The views of every chunk, required when options.views > 1 (compute throws
  /// std::logic_error without it). Its randomness is the caller's (augmentation
  /// is not privacy-relevant: any per-example transformation keeps the bound).
  void set_view_maker(ViewMaker maker) { view_maker_ = std::move(maker); }

  /// Computes the privatised gradient for batch (x, y), stores it in each
  /// parameter's .grad(), ready for any optimizer, and records the step with the
  /// accountant (every step counts, an empty batch included).
  DpStepStats compute(const torch::Tensor& x, const torch::Tensor& y,
                      util::PhaseClock* clock = nullptr);

  /// Epsilon at `delta` for the steps taken so far. Throws std::logic_error when
  /// no Poisson sampler was checked (check_sampler): batches handed in from
  /// elsewhere (tests, the bench) earn no epsilon, so none is reported.
  [[nodiscard]] accounting::EpsilonReport epsilon(double delta) const;
  [[nodiscard]] const accounting::Accountant& accountant() const { return *accountant_; }
  /// The engine's registry key (auto resolved).
  [[nodiscard]] const std::string& engine_name() const { return engine_name_; }
  /// Std of the noise the next step adds to the clipped sum.
  [[nodiscard]] double noise_std() const;
  [[nodiscard]] double noise_multiplier() const { return options_.noise_multiplier; }
  [[nodiscard]] double sample_rate() const { return sample_rate_; }
  [[nodiscard]] const Clipper& clipper() const { return *clipper_; }
  /// Steps taken so far.
  [[nodiscard]] std::int64_t steps() const { return step_; }

  /// The resumable state: the noise source ("noise/"), the microbatch assignment
  /// source ("assignment/"), the clipper ("clipper/"), the step counter ("step"),
  /// whether the sampler was checked ("poisson_checked") and the accountant's
  /// history ("accountant": a list of {noise_multiplier, sample_rate, steps}).
  [[nodiscard]] util::StateMap state() const;
  /// Restores a state() into a fresh private step: its accountant must have
  /// recorded nothing; the saved segments are replayed through
  /// Accountant::step, and the resulting history must equal the saved one.
  /// Call check_sampler() first: load_state keeps that check (and clears it
  /// when the saved run had none). Throws std::runtime_error when the state
  /// does not fit (a seeded/secure mismatch, a different history).
  void load_state(const util::StateMap& state);

 private:
  std::vector<ChunkStats> accumulate(const torch::Tensor& x, const torch::Tensor& y,
                                     std::vector<torch::Tensor>& sums, util::PhaseClock* clock);
  void accumulate_microbatches(const torch::Tensor& x, const torch::Tensor& y,
                               std::vector<torch::Tensor>& sums, util::PhaseClock* clock,
                               std::vector<ChunkStats>& out);
  torch::Tensor gather_stats(const std::vector<ChunkStats>& parts, const torch::Tensor& x,
                             DpStepStats& stats) const;
  [[nodiscard]] torch::Tensor chunk_totals(const ChunkStats& part) const;
  void add_noise_and_store(std::vector<torch::Tensor>& sums, DpStepStats& stats,
                           util::PhaseClock* clock);

  PrivateModel model_;
  std::shared_ptr<const models::Objective> objective_;
  std::shared_ptr<Clipper> clipper_;
  std::string engine_name_;
  std::unique_ptr<GradientEngine> engine_;
  GaussianNoise noise_;
  std::unique_ptr<accounting::Accountant> accountant_;
  DpGradientOptions options_;
  double sample_rate_;
  util::RandomSource assignment_;
  std::shared_ptr<SumReduction> reduction_;     ///< null: this process holds the whole batch
  std::shared_ptr<InjectedExamples> injected_;  ///< null: no audit canaries
  ViewMaker view_maker_;
  std::int64_t step_ = 0;
  bool poisson_checked_ = false;
};

}  // namespace dpsgd::privacy
