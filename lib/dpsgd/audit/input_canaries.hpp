#pragma once
// Input canaries: the black-box audit of a released model (Steinke, Nasr,
// Jagielski 2023, Sec. 6, "input space" canaries). m training examples are
// taken out of the training set and given a wrong label (uniform over the other
// classes), which makes each an outlier whose presence the model can only show
// by fitting that label. Each is included with probability 1/2 (membership
// from SeedStream::kAuditMembership); the included ones join the training set,
// the excluded ones train nothing. Nothing in the training changes: each
// canary is an ordinary example, covered by the run's (eps, delta) like any
// other. The score is the final model's log-probability of the canary's wrong
// label (minus its cross-entropy loss): larger for canaries it was trained on.
// Which examples and which labels come from a sub-stream of
// SeedStream::kAuditCanaries. Classification data only (one label per example).
#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/data/tensor_dataset.hpp"
#include "dpsgd/models/model.hpp"

namespace dpsgd::audit {

struct InputCanaries {
  data::TensorDataset canaries;  ///< the m canaries with their wrong labels
  std::vector<bool> included;
  data::TensorDataset train;  ///< the training set the audited run uses
  /// The training set without any canary: the reference run's (audit_run.hpp).
  data::TensorDataset reference_train;
};

/// Takes m canaries out of `train` (needs m < train.size() and num_classes >= 2;
/// throws util::UserError otherwise, or for per-pixel targets).
[[nodiscard]] InputCanaries make_input_canaries(const data::TensorDataset& train,
                                                std::int64_t num_classes, std::int64_t m,
                                                std::uint64_t seed);

/// log p(wrong label | canary) under `model` (in eval mode), per canary.
[[nodiscard]] std::vector<double> input_canary_scores(models::Model& model,
                                                      const data::TensorDataset& canaries,
                                                      std::int64_t batch_size = 256);

}  // namespace dpsgd::audit
