#pragma once
// A fixed feature extractor from a TorchScript file: a backbone trained elsewhere, on
// data declared public (e.g. an ImageNet ResNet exported with torch.jit.script or
// torch.jit.trace). The module runs in eval mode without gradients, one chunk of
// batch_size examples at a time; each output row depends on its input row only as long
// as the module has no cross-example layer in eval mode (BatchNorm uses its running
// statistics then), which is what makes the features free of privacy cost
// (feature_extractor.hpp). A module that mixes examples in eval mode breaks that
// argument; no check here can detect it.
//
// Output shape: 2-D (N x D) and 4-D (N x C x H x W) outputs are kept as they are (a
// 4-D map can feed a head that pools or scatters it); any other rank is flattened to
// N x D (a 1-D output to N x 1, N x A x B to N x (A*B)), since the heads take rows.
// The first dimension must stay N. The result is float32 on the extractor's device.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "dpsgd/features/feature_extractor.hpp"

namespace dpsgd::features {

struct TorchScriptOptions {
  std::filesystem::path file;
  /// "" = the module's forward output; "a.b" = the submodule at that dotted path (child
  /// names as in named_children(), e.g. "features" or "layer4.1"), run on the inputs.
  std::string output;
  /// 0 = the channels as they are; K = a 1-channel (grey) image repeated to K channels
  /// (a K-channel input is left alone; any other count is an error).
  std::int64_t repeat_channels = 0;
  /// 0 = the size as it is; else a bilinear resize (align_corners false, no antialias:
  /// torch's F.interpolate default) to resize x resize.
  std::int64_t resize = 0;
  /// Per-channel (x - mean) / std after repeat and resize; both empty = none.
  std::vector<double> mean;
  std::vector<double> std;
  /// Examples per forward call (memory, not results, depends on it).
  std::int64_t batch_size = 256;
};

class TorchScriptExtractor final : public FeatureExtractor {
 public:
  /// Loads `options.file` onto `device` (torch::jit::load with map_location) and resolves
  /// `options.output`. Throws std::invalid_argument for a missing file, bad options or an
  /// unknown submodule path (the message lists the children available at the failing
  /// step) and std::runtime_error for a file that is not TorchScript. Each message names
  /// the file.
  explicit TorchScriptExtractor(TorchScriptOptions options, torch::Device device = torch::kCPU);

  /// `inputs`: N x C x H x W, any floating or integer dtype, on any device (moved to
  /// device()). Throws std::invalid_argument for other ranks or a channel count that
  /// repeat_channels or mean/std cannot take, std::runtime_error when the module returns
  /// something other than a tensor or changes the number of rows.
  torch::Tensor extract(const torch::Tensor& inputs) override;
  /// {"extractor":"torchscript","file_hash","output","repeat_channels","resize","mean",
  /// "std","version":1}. The file's bytes, not its path, are part of the key: a moved
  /// file keeps its cache, an overwritten one does not.
  [[nodiscard]] nlohmann::json fingerprint() const override;
  [[nodiscard]] std::string provenance() const override;

  [[nodiscard]] const torch::Device& device() const { return device_; }
  [[nodiscard]] const TorchScriptOptions& options() const { return options_; }
  /// ContentHash (util/content_hash.hpp) of the file's bytes, 16 hex digits.
  [[nodiscard]] const std::string& file_hash() const { return file_hash_; }

 private:
  torch::Tensor prepare(const torch::Tensor& batch) const;
  torch::Tensor run(const torch::Tensor& batch);

  TorchScriptOptions options_;
  torch::Device device_;
  std::string file_hash_;
  torch::jit::Module module_;  // the loaded file
  torch::jit::Module target_;  // module_ or the submodule named by options_.output
  torch::Tensor mean_;         // 1 x C x 1 x 1 float32 on device_, undefined when none
  torch::Tensor std_;
};

}  // namespace dpsgd::features
