#include "dpsgd/util/state_map.hpp"

#include <stdexcept>

namespace dpsgd::util {

void StateMap::put(const std::string& prefix, const StateMap& child) {
  const std::string head = prefix + "/";
  for (const auto& [name, t] : child.tensors) tensors[head + name] = t;
  for (const auto& [name, v] : child.values.items()) values[head + name] = v;
}

StateMap StateMap::child(const std::string& prefix) const {
  const std::string head = prefix + "/";
  StateMap out;
  for (const auto& [name, t] : tensors) {
    if (name.compare(0, head.size(), head) == 0) out.tensors[name.substr(head.size())] = t;
  }
  for (const auto& [name, v] : values.items()) {
    if (name.compare(0, head.size(), head) == 0) out.values[name.substr(head.size())] = v;
  }
  return out;
}

const torch::Tensor& StateMap::tensor(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    throw std::runtime_error("checkpoint state has no tensor '" + name + "'");
  }
  return it->second;
}

const nlohmann::json& StateMap::value(const std::string& name) const {
  const auto it = values.find(name);
  if (it == values.end()) throw std::runtime_error("checkpoint state has no value '" + name + "'");
  return *it;
}

}  // namespace dpsgd::util
