#pragma once
// The resumable state of one component (a sampler, a noise source, a clipper, the
// private step, the epoch loop): named tensors and named JSON values. A checkpoint
// nests the components' states under prefixes ("sampler/", "dp/clipper/", ...);
// a component's load_state() restores exactly what its state() returned, so that a
// resumed run continues bit-for-bit where the saved one stood.
#include <map>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace dpsgd::util {

struct StateMap {
  std::map<std::string, torch::Tensor> tensors;
  nlohmann::json values = nlohmann::json::object();

  /// Stores `child` under `prefix` + "/" (tensors and values alike).
  void put(const std::string& prefix, const StateMap& child);
  /// The state stored under `prefix` by put(); empty when there is none.
  [[nodiscard]] StateMap child(const std::string& prefix) const;
  /// The tensor named `name`; throws std::runtime_error naming it when absent
  /// (a checkpoint written by a different configuration).
  [[nodiscard]] const torch::Tensor& tensor(const std::string& name) const;
  /// The value named `name`; throws std::runtime_error naming it when absent.
  [[nodiscard]] const nlohmann::json& value(const std::string& name) const;
};

}  // namespace dpsgd::util
