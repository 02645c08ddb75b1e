#include "dpsgd/util/random_source.hpp"

#include <mutex>
#include <stdexcept>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include "dpsgd/util/secure_random.hpp"

namespace dpsgd::util {
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

std::optional<at::Generator> clone_of(const std::optional<at::Generator>& g) {
  if (!g) return std::nullopt;
  at::Generator handle = *g;  // shares the implementation; mutex() is not const
  std::lock_guard<std::mutex> lock(handle.mutex());
  return handle.clone();
}

const char* kind_name(bool secure) { return secure ? "secure" : "seeded"; }

}  // namespace

RandomSource RandomSource::seeded(std::uint64_t seed, const torch::Device& device) {
  RandomSource s;
  s.generator_ = make_generator(seed, device);
  return s;
}

RandomSource RandomSource::secure() { return RandomSource(); }

RandomSource::RandomSource(const RandomSource& other) : generator_(clone_of(other.generator_)) {}

RandomSource& RandomSource::operator=(const RandomSource& other) {
  if (this != &other) generator_ = clone_of(other.generator_);
  return *this;
}

torch::Tensor RandomSource::uniform(std::int64_t count) {
  if (!generator_) return secure_uniform(count);
  // float64, so that P(u < q) is q to within 2^-53; float32 would round q to 24 bits.
  const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(generator_->device());
  return at::rand({count}, *generator_, options).cpu();
}

torch::Tensor RandomSource::normal(at::IntArrayRef shape, const torch::TensorOptions& options) {
  if (generator_) return at::randn(shape, *generator_, options);
  std::int64_t count = 1;
  for (auto d : shape) count *= d;
  return secure_standard_normal(count).view(shape).to(options);
}

torch::Tensor RandomSource::randint(std::int64_t high, std::int64_t count) {
  if (!generator_) return secure_randint(high, count);
  const auto options = torch::TensorOptions(torch::kLong).device(generator_->device());
  return torch::randint(0, high, {count}, *generator_, options).cpu();
}

torch::Tensor RandomSource::randperm(std::int64_t n) {
  if (!generator_) return secure_randperm(n);
  const auto options = torch::TensorOptions(torch::kLong).device(generator_->device());
  return torch::randperm(n, *generator_, options).cpu();
}

StateMap RandomSource::state() const {
  StateMap out;
  out.values["kind"] = kind_name(is_secure());
  if (generator_) {
    at::Generator handle = *generator_;  // shares the implementation; mutex() is not const
    std::lock_guard<std::mutex> lock(handle.mutex());
    out.tensors["generator"] = handle.get_state();
  }
  return out;
}

void RandomSource::load_state(const StateMap& state) {
  const auto kind = state.value("kind").get<std::string>();
  if (kind != kind_name(is_secure())) {
    throw std::runtime_error("the saved random source is " + kind + " but this run's is " +
                             kind_name(is_secure()) +
                             ": resume with the same privacy.secure_rng setting");
  }
  if (!generator_) return;
  std::lock_guard<std::mutex> lock(generator_->mutex());
  generator_->set_state(state.tensor("generator"));
}

RandomSource stream_source(std::uint64_t run_seed, SeedStream stream, bool secure,
                           const torch::Device& device) {
  return secure ? RandomSource::secure()
                : RandomSource::seeded(stream_seed(run_seed, stream), device);
}

}  // namespace dpsgd::util
