#pragma once
// One batch over the whole data set, shared by the processes of a data-parallel
// run: the leader's sampler draws it (Poisson: every example of the whole data
// set in with probability q, independently; from the seeded stream or the OS
// CSPRNG), the leader broadcasts the drawn indices, and each process keeps its
// contiguous share (collectives.hpp: local_share). The union of the shares is
// exactly the drawn batch, so the mechanism is the one-process one; a share may
// be empty, and that process still takes the step. Only the leader's sampler
// advances, so its state() is the run's sampling state (the leader writes the
// checkpoints).
#include <memory>

#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/distributed/communicator.hpp"

namespace dpsgd::distributed {

class SharedBatchSampler final : public data::BatchSampler {
 public:
  SharedBatchSampler(std::unique_ptr<data::BatchSampler> inner, Communicator& comm)
      : inner_(std::move(inner)), comm_(comm) {}

  /// This process's share of the next batch (sorted global indices).
  torch::Tensor next() override;
  /// The whole batch's sampling rate: the draw is over the whole data set.
  [[nodiscard]] std::optional<double> poisson_rate() const override {
    return inner_->poisson_rate();
  }
  [[nodiscard]] util::StateMap state() const override { return inner_->state(); }
  void load_state(const util::StateMap& state) override { inner_->load_state(state); }
  /// The size of the whole batch last drawn (all shares together), and where
  /// this process's share starts in it.
  [[nodiscard]] std::int64_t last_batch_size() const { return last_batch_size_; }
  [[nodiscard]] std::int64_t last_share_begin() const { return last_share_begin_; }

 private:
  std::unique_ptr<data::BatchSampler> inner_;
  Communicator& comm_;
  std::int64_t last_batch_size_ = 0;
  std::int64_t last_share_begin_ = 0;
};

}  // namespace dpsgd::distributed
