#pragma once
// Mixed precision (YAML train.precision): the forward pass runs under LibTorch's
// autocast, which computes matrix products and convolutions in bfloat16 and
// keeps reductions such as log-softmax in float32. Everything a privacy
// guarantee reads stays float32: the per-example engines record activations and
// output gradients in float32 (per_example/activation_capture.cpp), so norms,
// clipping factors, the clipped sum, the noise and the optimizer never see a
// bfloat16 value. Backward passes are outside the scope: autograd replays the
// dtypes the forward chose.
#include <string>

#include <torch/torch.h>

namespace dpsgd::util {

enum class Precision {
  kFloat32,
  kBf16,  ///< forward under autocast with bfloat16
};

/// "float32" or "bf16".
std::string precision_name(Precision precision);

/// While alive, autocast to bfloat16 is on for `device`'s type (kBf16), or
/// nothing changes (kFloat32). Restores the previous state when destroyed, so
/// scopes nest.
class AutocastScope {
 public:
  AutocastScope(Precision precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;
  AutocastScope(AutocastScope&&) = delete;
  AutocastScope& operator=(AutocastScope&&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Float;
};

}  // namespace dpsgd::util
