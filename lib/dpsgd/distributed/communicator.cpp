#include "dpsgd/distributed/communicator.hpp"

#include "dpsgd/distributed/c10d_communicator.hpp"

namespace dpsgd::distributed {
namespace {

class SingleProcess final : public Communicator {
 public:
  [[nodiscard]] int rank() const override { return 0; }
  [[nodiscard]] int world_size() const override { return 1; }
  [[nodiscard]] std::string backend() const override { return "none"; }
  void all_reduce_sum(std::vector<torch::Tensor>& /*tensors*/) override {}
  void broadcast(std::vector<torch::Tensor>& /*tensors*/, int /*root*/) override {}
  void report_failure(const std::string& /*reason*/) override {}
  [[nodiscard]] std::optional<std::string> failure_reason() override { return std::nullopt; }
};

}  // namespace

std::unique_ptr<Communicator> single_process() { return std::make_unique<SingleProcess>(); }

std::unique_ptr<Communicator> connect(const LaunchEnvironment& env, const torch::Device& device) {
  if (env.world_size <= 1) return single_process();
  const BackendKind kind =
      env.backend.value_or(device.is_cuda() ? BackendKind::kNccl : BackendKind::kGloo);
  return make_c10d_communicator(env, kind, device);
}

}  // namespace dpsgd::distributed
