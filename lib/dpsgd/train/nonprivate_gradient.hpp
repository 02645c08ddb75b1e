#pragma once
// The non-private baseline's gradient: ordinary autograd of the mean loss over
// the drawn batch, accumulated over physical chunks so memory matches the
// private path. Used by training and by the benchmark, so both time the same code.
#include <cstdint>

#include "dpsgd/models/model.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/util/autocast.hpp"
#include "dpsgd/util/phase_clock.hpp"

namespace dpsgd::train {

struct BatchSums {
  double loss_sum = 0.0;
  double score_sum = 0.0;
};

/// Adds d(mean loss)/d(params) into the parameters' .grad() (zero them first).
BatchSums nonprivate_gradient(models::Model& model, const models::Objective& objective,
                              const torch::Tensor& x, const torch::Tensor& y,
                              std::int64_t physical_batch_size, util::PhaseClock* clock,
                              util::Precision precision = util::Precision::kFloat32);

}  // namespace dpsgd::train
