#pragma once
// What the epoch loop exchanges between the processes of a data-parallel run
// so that every process holds the same model after every step: the leader's
// initial weights, the whole batch's non-private gradient, and the decision to
// stop. (The private gradient's exchange is the privacy code's own:
// privacy/sum_reduction.hpp.)
#include <cstdint>

#include "dpsgd/distributed/communicator.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/train/nonprivate_gradient.hpp"

namespace dpsgd::train {

/// Every process's parameters and buffers become the leader's.
void broadcast_model(distributed::Communicator& comm, models::Model& model);

/// Turns each process's gradient of its share's mean loss (nonprivate_gradient)
/// into the gradient of the whole batch's mean loss, on every process, and
/// `sums` and `drawn` into the whole batch's.
void sum_nonprivate_gradient(distributed::Communicator& comm, models::Model& model, BatchSums& sums,
                             std::int64_t& drawn);

/// The signal that stopped any process (the largest, when several did), or 0.
int agreed_stop_signal(distributed::Communicator& comm, int local_signal);

}  // namespace dpsgd::train
