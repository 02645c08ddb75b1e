#pragma once
// privacy::SumReduction across the processes of a data-parallel run: sums are
// all-reduced, and the leader (rank 0) is the one participant that adds the
// noise, so the noise enters once per step whatever the number of processes
// (privacy/sum_reduction.hpp has the argument).
#include "dpsgd/distributed/communicator.hpp"
#include "dpsgd/privacy/sum_reduction.hpp"

namespace dpsgd::distributed {

class ProcessSum final : public privacy::SumReduction {
 public:
  explicit ProcessSum(Communicator& comm) : comm_(comm) {}
  [[nodiscard]] bool adds_noise() const override { return comm_.is_leader(); }
  void sum(std::vector<torch::Tensor>& tensors) override;
  [[nodiscard]] torch::Tensor concatenate(const torch::Tensor& local) override;

 private:
  Communicator& comm_;
};

}  // namespace dpsgd::distributed
