#include "dpsgd/distributed/c10d_communicator.hpp"

#include <string>
#include <utility>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "dpsgd/distributed/backends/process_group_factory.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::distributed {
namespace {

class C10dCommunicator final : public Communicator {
 public:
  C10dCommunicator(const LaunchEnvironment& env, BackendKind kind, const torch::Device& device)
      : rank_(env.rank),
        world_size_(env.world_size),
        kind_(kind),
        device_(device),
        timeout_(env.timeout),
        failure_key_("dpsgd/" + env.attempt + "/failure") {
    if (kind == BackendKind::kNccl && !device.is_cuda()) {
      throw util::UserError(
          "DPSGD_DIST_BACKEND=nccl needs a CUDA device (--device cuda); the CPU uses gloo");
    }
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(env.master_port);
    options.isServer = env.rank == 0 && !env.agent_store;
    options.numWorkers = static_cast<std::size_t>(env.world_size);
    options.timeout = timeout_;
    store_ = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
    const auto prefixed =
        c10::make_intrusive<c10d::PrefixStore>("dpsgd/" + env.attempt + "/group", store_);
    group_ = kind == BackendKind::kNccl ? make_nccl_group(prefixed, rank_, world_size_, timeout_)
                                        : make_gloo_group(prefixed, rank_, world_size_, timeout_);
  }

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int world_size() const override { return world_size_; }
  [[nodiscard]] std::string backend() const override { return backend_name(kind_); }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override {
    if (tensors.empty()) return;
    std::vector<torch::Tensor> flat = {staged(flatten(tensors))};
    group_->allreduce(flat)->wait(timeout_);
    unflatten(flat.front(), tensors);
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    if (tensors.empty()) return;
    std::vector<torch::Tensor> flat = {staged(flatten(tensors))};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    group_->broadcast(flat, options)->wait(timeout_);
    unflatten(flat.front(), tensors);
  }

  void report_failure(const std::string& reason) override {
    try {
      // Only the first report is kept: later ones are mostly peers failing
      // because of it.
      if (!store_->check({failure_key_})) {
        const auto text = util::cat("rank ", rank_, ": ", reason);
        store_->set(failure_key_, std::vector<std::uint8_t>(text.begin(), text.end()));
      }
    } catch (const std::exception&) {
      // The store's server (rank 0) is gone: nobody is left to read the reason.
    }
  }

  [[nodiscard]] std::optional<std::string> failure_reason() override {
    try {
      if (!store_->check({failure_key_})) return std::nullopt;
      const auto bytes = store_->get(failure_key_);
      return std::string(bytes.begin(), bytes.end());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

 private:
  // One contiguous buffer holding every tensor; all must share dtype and device.
  static torch::Tensor flatten(const std::vector<torch::Tensor>& tensors) {
    std::vector<torch::Tensor> views;
    views.reserve(tensors.size());
    for (const auto& t : tensors) {
      if (t.scalar_type() != tensors.front().scalar_type() ||
          t.device() != tensors.front().device()) {
        throw std::logic_error("all_reduce_sum/broadcast: tensors of one call differ in type");
      }
      views.push_back(t.reshape({-1}));
    }
    return torch::cat(views);
  }

  // Gloo reduces host memory here (staging CUDA tensors); NCCL this process's
  // device memory (staging host tensors: the step's statistics, batch indices).
  [[nodiscard]] torch::Tensor staged(const torch::Tensor& flat) const {
    return kind_ == BackendKind::kGloo ? flat.cpu().contiguous() : flat.to(device_).contiguous();
  }

  static void unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) {
    torch::NoGradGuard no_grad;
    std::int64_t offset = 0;
    for (auto& t : tensors) {
      t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }

  int rank_;
  int world_size_;
  BackendKind kind_;
  torch::Device device_;
  std::chrono::milliseconds timeout_;
  std::string failure_key_;
  c10::intrusive_ptr<c10d::TCPStore> store_;
  c10::intrusive_ptr<c10d::Backend> group_;
};

}  // namespace

std::unique_ptr<Communicator> make_c10d_communicator(const LaunchEnvironment& env, BackendKind kind,
                                                     const torch::Device& device) {
  util::log::info(util::cat("rank ", env.rank, " of ", env.world_size, " (", env.launcher,
                            "): connecting to ", env.master_addr, ":", env.master_port, " over ",
                            backend_name(kind)));
  return std::make_unique<C10dCommunicator>(env, kind, device);
}

}  // namespace dpsgd::distributed
