#pragma once
// Privacy accountant interface.
//
// Guarantee tracked: (epsilon, delta)-DP under add/remove-one neighbouring
// datasets (the example-level relation: one dataset has one example more) for the
// adaptive composition of the recorded mechanisms. Mechanism: each step is a
// Poisson-subsampled Gaussian mechanism with sampling rate q (sampling assumption:
// each example joins the batch independently with probability q) on a sum whose L2
// sensitivity is the clipping norm C (each example's gradient clipped to norm C), with
// noise N(0, (sigma * C)^2 I).
// The history is a list of (sigma, q, steps) segments, so schedules and resumed
// runs compose correctly. Callers must record only steps that were really taken
// with real Poisson sampling; an accountant cannot detect a loader that lies.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dpsgd::accounting {

/// `steps` consecutive steps of the Poisson-subsampled Gaussian mechanism.
struct MechanismSegment {
  double noise_multiplier = 0.0;  ///< sigma: noise std over the L2 sensitivity
  double sample_rate = 0.0;       ///< q in (0, 1]
  std::int64_t steps = 0;
};

/// An epsilon with whatever detail the accountant can give. The optional details are
/// filled by the accountants they apply to, so that a caller (e.g. `dpsgd-run epsilon`)
/// prints what is present without knowing which accountant it asked.
struct EpsilonReport {
  double epsilon = 0.0;
  double delta = 0.0;
  double epsilon_lower = 0.0;  ///< numerical accountants: error bounds; else = epsilon
  double epsilon_upper = 0.0;
  /// RDP: the order alpha that gave the minimum (0 when none did: nothing recorded, or
  /// epsilon +inf at every order).
  std::optional<double> best_order;
  /// RDP: the RDP-to-DP conversion used, "classic" or "improved".
  std::optional<std::string> rdp_conversion;
  /// epsilon_lower and epsilon_upper are a numerical error bracket around the estimate
  /// `epsilon` (PRV); without it they equal epsilon.
  bool has_bounds = false;
  /// The epsilon is an approximation, NOT a guarantee: it can be below the true epsilon
  /// (GDP's central limit theorem).
  bool approximation = false;
};

/// The epsilon to report and to calibrate against: the upper end of the
/// accountant's error bound (PRV's estimate can sit below the true epsilon).
inline double reported_epsilon(const EpsilonReport& report) {
  return report.epsilon_upper > report.epsilon ? report.epsilon_upper : report.epsilon;
}

class Accountant {
 public:
  virtual ~Accountant() = default;

  /// Records `steps` steps with noise multiplier `sigma` and sampling rate `q`.
  virtual void step(double sigma, double q, std::int64_t steps = 1) = 0;
  /// Epsilon at `delta` for everything recorded so far (0 when nothing was recorded).
  [[nodiscard]] virtual EpsilonReport epsilon(double delta) const = 0;
  /// The YAML / CLI name of this accountant, e.g. "rdp".
  [[nodiscard]] virtual std::string name() const = 0;
  /// The composed history, merged where consecutive segments share sigma and q.
  [[nodiscard]] virtual const std::vector<MechanismSegment>& history() const = 0;
};

/// Makes a fresh accountant with nothing recorded (calibration and pipelines query many
/// histories, each from scratch).
using AccountantMaker = std::function<std::unique_ptr<Accountant>()>;

}  // namespace dpsgd::accounting
