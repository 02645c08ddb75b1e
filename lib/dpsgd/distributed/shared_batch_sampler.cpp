#include "dpsgd/distributed/shared_batch_sampler.hpp"

#include "dpsgd/distributed/collectives.hpp"

namespace dpsgd::distributed {

torch::Tensor SharedBatchSampler::next() {
  const auto drawn = comm_.is_leader() ? inner_->next() : torch::empty({0}, torch::kInt64);
  const auto batch = broadcast_indices(comm_, drawn, /*root=*/0);
  last_batch_size_ = batch.size(0);
  last_share_begin_ = share_begin(last_batch_size_, comm_.rank(), comm_.world_size());
  return local_share(batch, comm_.rank(), comm_.world_size());
}

}  // namespace dpsgd::distributed
