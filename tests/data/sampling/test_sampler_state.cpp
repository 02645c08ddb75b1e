// The samplers' randomness (issue 13): their draws depend only on their own
// stream (not on augmentation, model init or the global generator), a saved
// state resumes the same batches bit-for-bit, and the secure sampler draws
// from the OS CSPRNG.
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/data/sampling/poisson_sampler.hpp"
#include "dpsgd/data/sampling/shuffle_sampler.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/seeds.hpp"

using namespace dpsgd;

namespace {

std::vector<torch::Tensor> take(data::BatchSampler& s, int n) {
  std::vector<torch::Tensor> out;
  for (int i = 0; i < n; ++i) out.push_back(s.next().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

std::unique_ptr<data::BatchSampler> sampler(data::Sampling kind, bool secure) {
  return data::make_sampler(kind, 300, 32,
                            util::stream_source(0, util::SeedStream::kBatchSampling, secure));
}

}  // namespace

TEST_CASE("samplers: batches depend only on the sampler's own stream", "[sampler][seeds]") {
  for (const auto kind : {data::Sampling::kPoisson, data::Sampling::kShuffle}) {
    auto plain = sampler(kind, false);
    const auto expected = take(*plain, 12);
    // Another run with augmentation switched on and more model-init draws: the
    // augmentation generator and the global one are consumed between batches.
    torch::manual_seed(util::stream_seed(0, util::SeedStream::kModelInit));
    auto augmented = sampler(kind, false);
    auto aug =
        at::detail::createCPUGenerator(util::stream_seed(0, util::SeedStream::kAugmentation));
    std::vector<torch::Tensor> got;
    for (int i = 0; i < 12; ++i) {
      (void)at::rand({64}, aug);
      (void)torch::rand({1000});
      got.push_back(augmented->next().clone());
    }
    REQUIRE(same(got, expected));
  }
}

TEST_CASE("samplers: a restored state draws the same batches bit-for-bit", "[sampler][state]") {
  // 300 / 32 = 9 shuffle batches per epoch: 7 + 7 crosses a reshuffle.
  for (const auto kind : {data::Sampling::kPoisson, data::Sampling::kShuffle}) {
    auto a = sampler(kind, false);
    (void)take(*a, 7);
    const auto saved = a->state();
    const auto expected = take(*a, 7);
    auto fresh = data::make_sampler(kind, 300, 32, util::RandomSource::seeded(12345));
    fresh->load_state(saved);
    REQUIRE(same(take(*fresh, 7), expected));
    auto secure = sampler(kind, true);
    REQUIRE_THROWS(secure->load_state(saved));
  }
}

TEST_CASE("samplers: secure batches come from the OS CSPRNG", "[sampler][secure]") {
  auto& global = at::detail::getDefaultCPUGenerator();
  const auto before = global.get_state();
  for (const auto kind : {data::Sampling::kPoisson, data::Sampling::kShuffle}) {
    auto a = sampler(kind, true);
    auto b = sampler(kind, true);  // same seed, same stream: still different batches
    REQUIRE_FALSE(same(take(*a, 5), take(*b, 5)));
  }
  // Poisson rate still q: 200 batches of Binomial(300, 32/300), mean 32, sd ~ 0.38 of the mean.
  auto p = sampler(data::Sampling::kPoisson, true);
  double total = 0;
  for (int i = 0; i < 200; ++i) total += static_cast<double>(p->next().numel());
  REQUIRE(total / 200.0 == Approx(32.0).margin(2.0));
  REQUIRE(torch::equal(global.get_state(), before));
}
