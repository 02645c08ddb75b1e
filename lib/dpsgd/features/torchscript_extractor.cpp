#include "dpsgd/features/torchscript_extractor.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "dpsgd/util/content_hash.hpp"

namespace dpsgd::features {
namespace {

std::string where(const std::filesystem::path& file) { return "TorchScript file " + file.string(); }

void validate(const TorchScriptOptions& o) {
  const auto bad = [&](const std::string& what) {
    throw std::invalid_argument(where(o.file) + ": " + what);
  };
  if (o.repeat_channels < 0) bad("repeat_channels must be >= 0");
  if (o.resize < 0) bad("resize must be >= 0");
  if (o.batch_size <= 0) bad("batch_size must be > 0");
  if (o.mean.size() != o.std.size()) bad("mean and std must have the same number of channels");
  for (const double s : o.std) {
    if (!(s > 0)) bad("every std must be > 0");
  }
}

// torch::jit::load's message carries a C++ backtrace; its first line says what failed.
std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

torch::jit::Module load(const std::filesystem::path& file, const torch::Device& device) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw std::invalid_argument(where(file) + " does not exist or is not a regular file");
  }
  try {
    return torch::jit::load(file.string(), device);
  } catch (const c10::Error& e) {
    throw std::runtime_error(where(file) + " is not a TorchScript file that torch::jit::load " +
                             "can read (" + first_line(e.what_without_backtrace()) + ")");
  }
}

std::string child_names(const torch::jit::Module& module) {
  std::string names;
  for (const auto& child : module.named_children()) {
    names += (names.empty() ? "" : ", ") + child.name;
  }
  return names.empty() ? "none" : names;
}

// The submodule at a dotted path of child names ("" = the module itself).
torch::jit::Module resolve(const torch::jit::Module& root, const std::string& path,
                           const std::filesystem::path& file) {
  torch::jit::Module current = root;
  std::string walked;
  std::size_t start = 0;
  while (!path.empty() && start <= path.size()) {
    const std::size_t dot = std::min(path.find('.', start), path.size());
    const std::string name = path.substr(start, dot - start);
    bool found = false;
    for (const auto& child : current.named_children()) {
      if (child.name == name) {
        current = child.value;
        found = true;
        break;
      }
    }
    if (!found) {
      throw std::invalid_argument(where(file) + " has no submodule \"" + path + "\": \"" +
                                  (walked.empty() ? "the module" : walked) + "\" has no child \"" +
                                  name + "\" (its children: " + child_names(current) + ")");
    }
    walked += (walked.empty() ? "" : ".") + name;
    start = dot + 1;
  }
  if (!current.find_method("forward")) {
    throw std::invalid_argument(where(file) + ": submodule \"" + path + "\" has no forward method");
  }
  return current;
}

// Rows for the heads: 2-D and 4-D outputs as they are, anything else flattened to N x D
// (see the header for why).
torch::Tensor to_rows(torch::Tensor out, std::int64_t rows, const std::string& who) {
  if (out.dim() == 0 || out.size(0) != rows) {
    throw std::runtime_error(who + " returned a tensor of shape " + c10::str(out.sizes()) +
                             " for " + std::to_string(rows) +
                             " inputs; its first dimension must be the number of inputs");
  }
  if (out.dim() != 2 && out.dim() != 4) out = out.reshape({rows, -1});
  return out.to(torch::kFloat).contiguous();
}

}  // namespace

TorchScriptExtractor::TorchScriptExtractor(TorchScriptOptions options, torch::Device device)
    : options_(std::move(options)), device_(device) {
  validate(options_);
  module_ = load(options_.file, device_);
  // The key holds the bytes, read right after the module was loaded from them; a file
  // rewritten in between would be caught by nothing here (ContentHash guards against
  // stale caches, not against concurrent writers).
  file_hash_ = util::ContentHash().add_file(options_.file).hex();
  module_.eval();
  target_ = resolve(module_, options_.output, options_.file);
  if (!options_.mean.empty()) {
    const auto channels = static_cast<std::int64_t>(options_.mean.size());
    const auto as_tensor = [&](const std::vector<double>& v) {
      return torch::tensor(v, torch::kDouble).to(device_, torch::kFloat).view({1, channels, 1, 1});
    };
    mean_ = as_tensor(options_.mean);
    std_ = as_tensor(options_.std);
  }
}

torch::Tensor TorchScriptExtractor::prepare(const torch::Tensor& batch) const {
  torch::Tensor x = batch.to(device_, torch::kFloat);
  const std::int64_t k = options_.repeat_channels;
  if (k > 0 && x.size(1) != k) {
    if (x.size(1) != 1) {
      throw std::invalid_argument(where(options_.file) + ": repeat_channels " + std::to_string(k) +
                                  " needs 1 or " + std::to_string(k) + " input channels, got " +
                                  std::to_string(x.size(1)));
    }
    x = x.repeat({1, k, 1, 1});
  }
  const std::int64_t r = options_.resize;
  if (r > 0 && (x.size(2) != r || x.size(3) != r)) {
    namespace F = torch::nn::functional;
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<std::int64_t>{r, r})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  }
  if (mean_.defined()) {
    if (x.size(1) != mean_.size(1)) {
      throw std::invalid_argument(where(options_.file) + ": mean and std have " +
                                  std::to_string(mean_.size(1)) + " channels, the input " +
                                  std::to_string(x.size(1)));
    }
    x = (x - mean_) / std_;
  }
  return x;
}

torch::Tensor TorchScriptExtractor::run(const torch::Tensor& batch) {
  const std::string who =
      where(options_.file) + (options_.output.empty() ? std::string(" (forward)")
                                                      : " (submodule \"" + options_.output + "\")");
  const torch::jit::IValue out = target_.forward({prepare(batch)});
  if (!out.isTensor()) {
    throw std::runtime_error(who + " returned a " + out.tagKind() + ", not a tensor");
  }
  return to_rows(out.toTensor(), batch.size(0), who);
}

torch::Tensor TorchScriptExtractor::extract(const torch::Tensor& inputs) {
  if (inputs.dim() != 4) {
    throw std::invalid_argument(where(options_.file) + ": inputs must be N x C x H x W, got " +
                                c10::str(inputs.sizes()));
  }
  // No InferenceMode: its tensors cannot be saved for backward, and the features are the
  // inputs of heads trained with autograd. NoGradGuard alone keeps no graph.
  torch::NoGradGuard no_grad;
  const std::int64_t n = inputs.size(0);
  std::vector<torch::Tensor> chunks;
  for (std::int64_t start = 0; start < n || (n == 0 && chunks.empty());
       start += options_.batch_size) {
    chunks.push_back(run(inputs.narrow(0, start, std::min(options_.batch_size, n - start))));
  }
  return chunks.size() == 1 ? chunks.front() : torch::cat(chunks);
}

nlohmann::json TorchScriptExtractor::fingerprint() const {
  return {{"extractor", "torchscript"}, {"file_hash", file_hash_},
          {"output", options_.output},  {"repeat_channels", options_.repeat_channels},
          {"resize", options_.resize},  {"mean", options_.mean},
          {"std", options_.std},        {"version", 1}};
}

std::string TorchScriptExtractor::provenance() const {
  return "TorchScript backbone " + options_.file.string() + " (content hash " + file_hash_ +
         "): its training data is public by declaration";
}

}  // namespace dpsgd::features
