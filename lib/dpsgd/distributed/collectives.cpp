#include "dpsgd/distributed/collectives.hpp"

#include <vector>

namespace dpsgd::distributed {

torch::Tensor broadcast_indices(Communicator& comm, const torch::Tensor& on_root, int root) {
  if (comm.world_size() == 1) return on_root;
  const bool is_root = comm.rank() == root;
  std::vector<torch::Tensor> size = {
      torch::full({1}, is_root ? on_root.size(0) : 0, torch::kInt64)};
  comm.broadcast(size, root);
  const std::int64_t n = size.front().item<std::int64_t>();
  if (n == 0) return torch::empty({0}, torch::kInt64);
  std::vector<torch::Tensor> values = {is_root ? on_root.to(torch::kInt64).contiguous().clone()
                                               : torch::empty({n}, torch::kInt64)};
  comm.broadcast(values, root);
  return values.front();
}

torch::Tensor gather_concat(Communicator& comm, const torch::Tensor& local) {
  const auto options = local.options().dtype(torch::kFloat64);
  if (comm.world_size() == 1) return local.to(torch::kFloat64);
  const int world = comm.world_size();
  std::vector<torch::Tensor> sizes = {torch::zeros({world}, options)};
  sizes.front()[comm.rank()] = static_cast<double>(local.numel());
  comm.all_reduce_sum(sizes);
  const auto host_sizes = sizes.front().cpu().to(torch::kInt64);
  const std::int64_t longest = host_sizes.max().item<std::int64_t>();
  if (longest == 0) return torch::zeros({0}, options);
  // Each process fills its own row; the sum of the zero-padded tables is the table.
  std::vector<torch::Tensor> table = {torch::zeros({world, longest}, options)};
  table.front()[comm.rank()].narrow(0, 0, local.numel()).copy_(local.reshape({-1}));
  comm.all_reduce_sum(table);
  std::vector<torch::Tensor> rows;
  for (int r = 0; r < world; ++r) {
    rows.push_back(table.front()[r].narrow(0, 0, host_sizes[r].item<std::int64_t>()));
  }
  return torch::cat(rows);
}

std::int64_t share_begin(std::int64_t batch_size, int rank, int world_size) {
  return batch_size * rank / world_size;
}

torch::Tensor local_share(const torch::Tensor& batch, int rank, int world_size) {
  const std::int64_t b = batch.size(0);
  const std::int64_t begin = share_begin(b, rank, world_size);
  const std::int64_t end = share_begin(b, rank + 1, world_size);
  return batch.narrow(0, begin, end - begin);
}

}  // namespace dpsgd::distributed
