#include "dpsgd/util/state_file.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include <torch/serialize.h>

#include "dpsgd/util/atomic_file.hpp"

namespace dpsgd::util {
namespace {

constexpr const char* kValuesKey = "__values__";

c10::impl::GenericDict make_dict() {
  return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get());
}

void write_dict(const std::filesystem::path& path, const c10::impl::GenericDict& dict) {
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
}

std::map<std::string, c10::IValue> read_dict(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path.string() + ": not a tensor file: " + e.what_without_backtrace());
  }
  if (!value.isGenericDict()) throw std::runtime_error(path.string() + ": not a dict of tensors");
  std::map<std::string, c10::IValue> out;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString()) throw std::runtime_error(path.string() + ": a key is no string");
    out[entry.key().toStringRef()] = entry.value();
  }
  return out;
}

}  // namespace

void save_tensor_dict(const std::filesystem::path& path,
                      const std::map<std::string, torch::Tensor>& tensors) {
  auto dict = make_dict();
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu());
  write_dict(path, dict);
}

std::map<std::string, torch::Tensor> load_tensor_dict(const std::filesystem::path& path) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, value] : read_dict(path)) {
    if (!value.isTensor()) {
      throw std::runtime_error(path.string() + ": entry '" + name + "' is no tensor");
    }
    out[name] = value.toTensor();
  }
  return out;
}

void save_state_file(const std::filesystem::path& path, const StateMap& state) {
  auto dict = make_dict();
  for (const auto& [name, t] : state.tensors) dict.insert(name, t.detach().cpu());
  dict.insert(kValuesKey, state.values.dump());
  write_dict(path, dict);
}

StateMap load_state_file(const std::filesystem::path& path) {
  StateMap state;
  bool has_values = false;
  for (const auto& [name, value] : read_dict(path)) {
    if (name == kValuesKey && value.isString()) {
      state.values = nlohmann::json::parse(value.toStringRef());
      has_values = true;
    } else if (value.isTensor()) {
      state.tensors[name] = value.toTensor();
    } else {
      throw std::runtime_error(path.string() + ": entry '" + name + "' is no tensor");
    }
  }
  if (!has_values) throw std::runtime_error(path.string() + ": not a dpsgd checkpoint");
  return state;
}

}  // namespace dpsgd::util
