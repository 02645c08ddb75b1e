#pragma once
// The resumable state of the parts of a run that torch owns: the model's
// parameters and buffers (under their state-dict names, "conv1.weight", as
// PyTorch's Module.state_dict() names them), the optimizer's state (momentum
// buffers, Adam moments and step counts, as torch's own archive writes it) and
// torch's global generators (CPU, and the CUDA device's when there is one),
// which model code may draw from.
#include <map>
#include <string>

#include <torch/torch.h>

#include "dpsgd/models/model.hpp"
#include "dpsgd/util/state_map.hpp"

namespace dpsgd::train {

/// Parameters and buffers by state-dict name (detached; on the model's device).
std::map<std::string, torch::Tensor> model_tensors(const models::Model& model);
/// Copies `tensors` into the model. Throws std::runtime_error naming the first
/// missing, unexpected or differently shaped entry.
void load_model_tensors(models::Model& model, const std::map<std::string, torch::Tensor>& tensors);

util::StateMap optimizer_state(torch::optim::Optimizer& optimizer);
void load_optimizer_state(torch::optim::Optimizer& optimizer, const util::StateMap& state);

/// torch's global generators: CPU always, the device's when it is a CUDA device.
util::StateMap global_generator_state(const torch::Device& device);
void load_global_generator_state(const util::StateMap& state, const torch::Device& device);

}  // namespace dpsgd::train
