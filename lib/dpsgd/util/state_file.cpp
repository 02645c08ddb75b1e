#include "dpsgd/util/state_file.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include <torch/csrc/jit/serialization/pickler.h>
#include <torch/serialize.h>

#include "dpsgd/util/atomic_file.hpp"
#include <caffe2/serialize/inline_container.h>

namespace dpsgd::util {
namespace {

constexpr const char* kValuesKey = "__values__";

c10::impl::GenericDict make_dict() {
  return c10::impl::GenericDict(c10::StringType::get(), c10::AnyType::get());
}

// torch.save's zip layout (data.pkl plus one record per tensor storage), pickled
// without the type tags torch::pickle_save adds to dicts: torch.load's default
// weights_only unpickler refuses those tags (torch >= 2.6), and a plain dict of
// tensors is all these files hold.
std::vector<char> plain_torch_save(const c10::IValue& value) {
  std::vector<char> pickled;
  std::vector<at::Tensor> tensors;
  torch::jit::Pickler pickler(
      [&](const char* data, size_t size) { pickled.insert(pickled.end(), data, data + size); },
      nullptr, nullptr, nullptr,
      [&](const at::Tensor& t) {
        tensors.push_back(t);
        return std::to_string(tensors.size() - 1);
      },
      /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(value);
  pickler.stop();
  std::vector<char> out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t size) -> size_t {
    const auto* bytes = static_cast<const char*>(data);
    out.insert(out.end(), bytes, bytes + size);
    return size;
  });
  writer.writeRecord("data.pkl", pickled.data(), pickled.size());
  writer.writeRecord("byteorder", "little", 6);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& storage = tensors[i].storage();
    writer.writeRecord("data/" + std::to_string(i), storage.data(), storage.nbytes());
  }
  writer.writeEndOfFile();
  return out;
}

void write_dict(const std::filesystem::path& path, const c10::impl::GenericDict& dict) {
  const std::vector<char> bytes = plain_torch_save(c10::IValue(dict));
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
  for (const auto& [name, t] : tensors) dict.insert(name, t.detach().cpu().contiguous().clone());
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
  for (const auto& [name, t] : state.tensors) {
    dict.insert(name, t.detach().cpu().contiguous().clone());  // own storage, no views
  }
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
