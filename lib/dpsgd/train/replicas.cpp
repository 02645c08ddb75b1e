#include "dpsgd/train/replicas.hpp"

#include <vector>

namespace dpsgd::train {

void broadcast_model(distributed::Communicator& comm, models::Model& model) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> floats;
  std::vector<torch::Tensor> others;
  for (const auto& p : model.parameters()) floats.push_back(p);
  for (const auto& b : model.buffers()) {
    (b.scalar_type() == floats.front().scalar_type() ? floats : others).push_back(b);
  }
  comm.broadcast(floats, /*root=*/0);
  for (auto& t : others) {
    std::vector<torch::Tensor> one = {t};
    comm.broadcast(one, /*root=*/0);
  }
}

void sum_nonprivate_gradient(distributed::Communicator& comm, models::Model& model, BatchSums& sums,
                             std::int64_t& drawn) {
  if (comm.world_size() == 1) return;
  torch::NoGradGuard no_grad;
  // Local gradients are of the share's mean; scaled back to sums, added up,
  // and divided by the whole batch's size.
  // A gradient no process defined (an unused parameter, an empty batch) stays
  // undefined, as in one process, so the optimizer skips it there too.
  const auto params = model.parameters();
  std::vector<torch::Tensor> grads;
  std::vector<double> totals_host = {sums.loss_sum, sums.score_sum, static_cast<double>(drawn)};
  for (const auto& p : params) {
    const bool defined = p.grad().defined();
    grads.push_back(defined ? p.grad() * static_cast<double>(drawn) : torch::zeros_like(p));
    totals_host.push_back(defined ? 1.0 : 0.0);
  }
  std::vector<torch::Tensor> totals = {torch::tensor(totals_host, torch::kFloat64)};
  comm.all_reduce_sum(totals);
  comm.all_reduce_sum(grads);
  const auto* t = totals.front().data_ptr<double>();
  sums = {t[0], t[1]};
  drawn = static_cast<std::int64_t>(t[2]);
  for (std::size_t k = 0; k < params.size(); ++k) {
    auto p = params[k];
    p.mutable_grad() =
        t[3 + k] > 0.0 && drawn > 0 ? grads[k] / static_cast<double>(drawn) : torch::Tensor();
  }
}

int agreed_stop_signal(distributed::Communicator& comm, int local_signal) {
  if (comm.world_size() == 1) return local_signal;
  std::vector<torch::Tensor> slots = {torch::zeros({comm.world_size()}, torch::kFloat64)};
  slots.front()[comm.rank()] = static_cast<double>(local_signal);
  comm.all_reduce_sum(slots);
  return static_cast<int>(slots.front().max().item<double>());
}

}  // namespace dpsgd::train
