#pragma once
// `dpsgd-run audit CONFIG`: an empirical privacy audit of each planned run with
// one audited training run per canary kind (Steinke, Nasr, Jagielski 2023), and
// the same audit of a sigma-0 twin (the control: no privacy claimed, so the
// bound shows what the audit can detect).
// Each audited run has a reference run: the same configuration without any
// canary, its own seed for batches and noise, and the audited run's (public)
// initial weights. Scores compare the audited model with the reference model:
// that removes the data's own effect (in a small model the data's drift along
// a random direction is larger than a canary's). The reference depends only on
// the data without canaries, public values and fresh randomness, never on which
// canaries were included nor on the audited run's batches or noise, so the
// scores are a post-processing of the audited model with independent side
// information, which the one-run theorem allows.
// Folders and files:
//   OUT/audit/<kind>/<audited|control>[-reference]/<run>/   ordinary run folders
//                     (resumable; a finished one is scored again, not retrained)
//   OUT/audit.json   per run and kind: the reported epsilon, the lower bound, m,
//                    r, v, the confidence, the Clopper-Pearson figure and a
//                    verdict: consistent, or a VIOLATION to investigate.
// Canary kinds: gradient (audit/gradient_canaries.hpp, white-box, the
// mechanism itself) and input (audit/input_canaries.hpp, black-box, mislabelled
// training examples scored by the released model). The audited run is the
// configured run plus its canaries; its epsilon is the one its own accountant
// reports (with input canaries the training set has N - m + (included) examples).
#include <cstdint>
#include <vector>

#include "dpsgd/experiment/run_experiment.hpp"

namespace dpsgd::experiment {

enum class CanaryKind { kGradient, kInput };

struct AuditRequest {
  ExperimentRequest experiment;  ///< config, --set, --out, --device, --variant, --only
  std::int64_t canaries = 1000;  ///< m
  double confidence = 0.95;
  std::vector<CanaryKind> kinds = {CanaryKind::kGradient, CanaryKind::kInput};
  bool control = true;  ///< also audit the sigma-0 twin of each run
};

/// Returns 0 when every audit is consistent, 1 when a lower bound exceeds the
/// reported epsilon (a VIOLATION) or a run failed, 128 + N on signal N.
/// util::UserError (exit 2) for bad input, before any training.
int run_audit(const AuditRequest& request);

}  // namespace dpsgd::experiment
