#include "dpsgd/privacy/gaussian_noise.hpp"

#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include "dpsgd/privacy/secure_random.hpp"

namespace dpsgd::privacy {
namespace {

at::Generator make_generator(std::uint64_t seed, const torch::Device& device) {
  if (device.is_cpu()) return at::detail::createCPUGenerator(seed);
  // Device generators are obtained by cloning the device's default generator
  // (no CUDA headers needed), then reseeded: the clone shares no state with it.
  auto generator = at::globalContext().defaultGenerator(device).clone();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  return generator;
}

}  // namespace

GaussianNoise::GaussianNoise(std::uint64_t seed, const torch::Device& device)
    : generator_(make_generator(seed, device)) {}

GaussianNoise GaussianNoise::secure() { return GaussianNoise(); }

torch::Tensor GaussianNoise::sample(at::IntArrayRef shape, double std,
                                    const torch::TensorOptions& options) {
  if (generator_.has_value()) return at::randn(shape, *generator_, options).mul_(std);
  std::int64_t count = 1;
  for (auto d : shape) count *= d;
  return secure_standard_normal(count).mul_(std).view(shape).to(options);
}

void GaussianNoise::add_to(std::vector<torch::Tensor>& tensors, double std) {
  torch::NoGradGuard no_grad;
  for (auto& t : tensors) {
    t.add_(sample(t.sizes(), std, t.options()));
  }
}

}  // namespace dpsgd::privacy
