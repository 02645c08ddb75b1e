#include "dpsgd/privacy/gaussian_noise.hpp"

namespace dpsgd::privacy {

GaussianNoise::GaussianNoise(std::uint64_t seed, const torch::Device& device)
    : source_(util::RandomSource::seeded(seed, device)) {}

GaussianNoise GaussianNoise::secure() { return GaussianNoise(util::RandomSource::secure()); }

torch::Tensor GaussianNoise::sample(at::IntArrayRef shape, double std,
                                    const torch::TensorOptions& options) {
  return source_.normal(shape, options).mul_(std);
}

void GaussianNoise::add_to(std::vector<torch::Tensor>& tensors, double std) {
  torch::NoGradGuard no_grad;
  for (auto& t : tensors) {
    t.add_(sample(t.sizes(), std, t.options()));
  }
}

}  // namespace dpsgd::privacy
