#include "dpsgd/distributed/process_sum.hpp"

#include "dpsgd/distributed/collectives.hpp"

namespace dpsgd::distributed {

void ProcessSum::sum(std::vector<torch::Tensor>& tensors) { comm_.all_reduce_sum(tensors); }

torch::Tensor ProcessSum::concatenate(const torch::Tensor& local) {
  return gather_concat(comm_, local);
}

}  // namespace dpsgd::distributed
