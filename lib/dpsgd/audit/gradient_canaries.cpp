#include "dpsgd/audit/gradient_canaries.hpp"

#include <stdexcept>
#include <utility>

#include <ATen/CPUGeneratorImpl.h>

#include "dpsgd/audit/audit_streams.hpp"

namespace dpsgd::audit {
namespace {

at::Generator generator_for(std::uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

torch::Tensor flat(const std::map<std::string, torch::Tensor>& tensors,
                   const std::vector<std::string>& names) {
  std::vector<torch::Tensor> parts;
  for (const auto& name : names) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) throw std::runtime_error("audit: the model has no parameter " + name);
    parts.push_back(it->second.detach().to(torch::kCPU, torch::kFloat64).reshape(-1));
  }
  return torch::cat(parts);
}

}  // namespace

std::vector<bool> draw_membership(std::uint64_t seed, std::int64_t m) {
  auto gen = generator_for(util::stream_seed(seed, util::SeedStream::kAuditMembership));
  const auto coins = torch::rand({m}, gen, torch::kFloat64);
  std::vector<bool> out(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i)
    out[static_cast<std::size_t>(i)] = coins[i].item<double>() < 0.5;
  return out;
}

GradientCanaries::GradientCanaries(std::uint64_t seed, std::vector<bool> included,
                                   std::vector<std::string> names,
                                   std::vector<std::vector<std::int64_t>> shapes)
    : seed_(seed),
      included_(std::move(included)),
      names_(std::move(names)),
      shapes_(std::move(shapes)) {
  if (names_.size() != shapes_.size() || names_.empty()) {
    throw std::invalid_argument("gradient canaries: one shape per parameter name");
  }
  for (const auto& s : shapes_) {
    std::int64_t n = 1;
    for (const auto d : s) n *= d;
    dimension_ += n;
  }
}

// Sub-streams 2i: the canaries' directions; 2t + 1: the steps' inclusion coins
// (audit_streams.hpp); each a function of its own index.
torch::Tensor GradientCanaries::direction(std::int64_t canary) const {
  auto gen = generator_for(audit_substream(seed_, 2 * static_cast<std::uint64_t>(canary)));
  auto u = torch::randn({dimension_}, gen, torch::kFloat64);
  return u / u.norm();
}

// Step t's coins: one uniform per canary, included or not, so that membership
// does not shift the coins of the others.
torch::Tensor GradientCanaries::coins(std::int64_t step) const {
  auto gen = generator_for(audit_substream(seed_, 2 * static_cast<std::uint64_t>(step) + 1));
  return torch::rand({static_cast<std::int64_t>(included_.size())}, gen, torch::kFloat64);
}

std::int64_t GradientCanaries::count_injections(std::int64_t steps, double q) const {
  std::int64_t total = 0;
  for (std::int64_t t = 0; t < steps; ++t) {
    const auto c = coins(t);
    const auto* u = c.data_ptr<double>();
    for (std::size_t i = 0; i < included_.size(); ++i) {
      total += included_[i] && u[i] < q ? 1 : 0;
    }
  }
  return total;
}

std::int64_t GradientCanaries::add_to(std::vector<torch::Tensor>& sums, std::int64_t step, double q,
                                      double sensitivity) {
  if (sums.size() != shapes_.size()) {
    throw std::logic_error("gradient canaries: the private step has other parameters");
  }
  const auto m = static_cast<std::int64_t>(included_.size());
  const auto drawn = coins(step);
  const auto* c = drawn.data_ptr<double>();
  std::int64_t added = 0;
  for (std::int64_t i = 0; i < m; ++i) {
    if (!included_[static_cast<std::size_t>(i)] || c[i] >= q) continue;
    const auto u = direction(i) * sensitivity;
    std::int64_t offset = 0;
    for (std::size_t k = 0; k < sums.size(); ++k) {
      const auto n = sums[k].numel();
      sums[k].add_(u.narrow(0, offset, n).view(sums[k].sizes()).to(sums[k].options()));
      offset += n;
    }
    ++added;
  }
  injections_ += added;
  return added;
}

std::vector<double> GradientCanaries::scores(
    const std::map<std::string, torch::Tensor>& reference,
    const std::map<std::string, torch::Tensor>& final_weights) const {
  const auto moved = flat(reference, names_) - flat(final_weights, names_);
  std::vector<double> out;
  out.reserve(included_.size());
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(included_.size()); ++i) {
    out.push_back(moved.dot(direction(i)).item<double>());
  }
  return out;
}

}  // namespace dpsgd::audit
