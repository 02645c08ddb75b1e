#include "dpsgd/train/model_state.hpp"

#include <mutex>
#include <sstream>
#include <stdexcept>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

namespace dpsgd::train {

std::map<std::string, torch::Tensor> model_tensors(const models::Model& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters()) out[item.key()] = item.value().detach();
  for (const auto& item : model.named_buffers()) out[item.key()] = item.value().detach();
  return out;
}

void load_model_tensors(models::Model& model, const std::map<std::string, torch::Tensor>& tensors) {
  auto own = model_tensors(model);
  for (const auto& [name, t] : tensors) {
    if (own.count(name) == 0) throw std::runtime_error("unexpected model tensor '" + name + "'");
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : own) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("missing model tensor '" + name + "'");
    if (it->second.sizes() != target.sizes()) {
      throw std::runtime_error("model tensor '" + name + "' has a different shape");
    }
    target.copy_(it->second);
  }
}

util::StateMap optimizer_state(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string s = bytes.str();
  util::StateMap state;
  state.tensors["archive"] = torch::from_blob(const_cast<char*>(s.data()),
                                              {static_cast<std::int64_t>(s.size())}, torch::kUInt8)
                                 .clone();
  return state;
}

void load_optimizer_state(torch::optim::Optimizer& optimizer, const util::StateMap& state) {
  const auto& t = state.tensor("archive");
  const auto bytes = t.contiguous();
  std::istringstream in(
      std::string(static_cast<const char*>(bytes.data_ptr()), static_cast<std::size_t>(t.numel())));
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  optimizer.load(archive);
}

util::StateMap global_generator_state(const torch::Device& device) {
  util::StateMap state;
  auto cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    state.tensors["cpu"] = cpu.get_state();
  }
  if (device.is_cuda()) {
    auto gpu = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gpu.mutex());
    state.tensors["cuda"] = gpu.get_state();
  }
  return state;
}

void load_global_generator_state(const util::StateMap& state, const torch::Device& device) {
  auto cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_state(state.tensor("cpu"));
  }
  if (device.is_cuda()) {
    auto gpu = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gpu.mutex());
    gpu.set_state(state.tensor("cuda"));
  }
}

}  // namespace dpsgd::train
