// util/seeds.hpp is the one place run seeds become stream seeds: a mixing
// function of (run seed, purpose), so no two streams share a seed, seed 0
// included, and no stream's draws repeat or mirror another's.
#include <set>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/util/seeds.hpp"

using dpsgd::util::SeedStream;
using dpsgd::util::stream_seed;
using dpsgd::util::substream_seed;

namespace {

const std::vector<SeedStream> kAllStreams = {SeedStream::kModelInit,
                                             SeedStream::kBatchSampling,
                                             SeedStream::kNoise,
                                             SeedStream::kClipper,
                                             SeedStream::kMicrobatchAssignment,
                                             SeedStream::kAugmentation,
                                             SeedStream::kAdaptiveCountNoise,
                                             SeedStream::kBenchBatches,
                                             SeedStream::kAuditMembership,
                                             SeedStream::kAuditCanaries,
                                             SeedStream::kTuningTrials};

}  // namespace

TEST_CASE("SplitMix64 is the published generator", "[seeds]") {
  // The first outputs of SplitMix64 from state 0 (Steele et al. 2014; the
  // reference values of Vigna's splitmix64.c).
  REQUIRE(dpsgd::util::splitmix64(0) == 0xE220A8397B1DCDAFULL);
  REQUIRE(dpsgd::util::splitmix64(0x9E3779B97F4A7C15ULL) == 0x6E789E6AA1B965F4ULL);
}

TEST_CASE("distinct (seed, purpose) pairs give distinct stream seeds", "[seeds]") {
  std::set<std::uint64_t> seen;
  std::size_t pairs = 0;
  std::vector<std::uint64_t> seeds = {~0ULL, 0x9E3779B97F4A7C15ULL, 1ULL << 32U, 1ULL << 63U};
  for (std::uint64_t s = 0; s < 4096; ++s) seeds.push_back(s);
  for (const auto seed : seeds) {
    for (const auto stream : kAllStreams) {
      const auto v = stream_seed(seed, stream);
      // No stream passes the run seed through (the old defect: sampler = model init = seed).
      REQUIRE(v != seed);
      seen.insert(v);
      // The low 32 bits too: torch's CPU generator (MT19937) keeps only those.
      ++pairs;
    }
  }
  REQUIRE(seen.size() == pairs);
  // Seed 0 is not special: its streams are far apart in every bit.
  for (std::size_t a = 0; a < kAllStreams.size(); ++a) {
    for (std::size_t b = a + 1; b < kAllStreams.size(); ++b) {
      const auto x = stream_seed(0, kAllStreams[a]) ^ stream_seed(0, kAllStreams[b]);
      REQUIRE(__builtin_popcountll(x) > 10);
      REQUIRE((x & 0xFFFFFFFFULL) != 0);
    }
  }
}

TEST_CASE("sub-streams are distinct per index and a function of (seed, index) alone", "[seeds]") {
  std::set<std::uint64_t> seen;
  const auto base = stream_seed(0, SeedStream::kClipper);
  for (std::uint64_t i = 0; i < 1000; ++i) seen.insert(substream_seed(base, i));
  REQUIRE(seen.size() == 1000);
  REQUIRE(seen.count(base) == 0);
  REQUIRE(substream_seed(base, 3) == substream_seed(base, 3));
  REQUIRE(substream_seed(base, 3) != substream_seed(base + 1, 3));
}

TEST_CASE("the augmentation and noise streams draw unrelated values (seed 0 included)", "[seeds]") {
  // The old derivations made the two CPU generators identical for seed 0.
  for (std::uint64_t seed : {0ULL, 1ULL, 42ULL}) {
    auto aug = at::detail::createCPUGenerator(stream_seed(seed, SeedStream::kAugmentation));
    auto noise = at::detail::createCPUGenerator(stream_seed(seed, SeedStream::kNoise));
    auto sampler = at::detail::createCPUGenerator(stream_seed(seed, SeedStream::kBatchSampling));
    auto init = at::detail::createCPUGenerator(stream_seed(seed, SeedStream::kModelInit));
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    const auto a = at::rand({20000}, aug, opts);
    const auto n = at::rand({20000}, noise, opts);
    const auto s = at::rand({20000}, sampler, opts);
    const auto m = at::rand({20000}, init, opts);
    REQUIRE_FALSE(torch::equal(a, n));
    REQUIRE_FALSE(torch::equal(s, m));
    // Independent uniforms have correlation ~ N(0, 1/20000): |r| < 0.035 is 5 standard errors.
    const auto corr = [](const torch::Tensor& x, const torch::Tensor& y) {
      const auto xc = x - x.mean();
      const auto yc = y - y.mean();
      return ((xc * yc).sum() / (xc.norm() * yc.norm())).item<double>();
    };
    REQUIRE(std::abs(corr(a, n)) < 0.035);
    REQUIRE(std::abs(corr(s, m)) < 0.035);
    // Not even shifted copies: no value of one stream's first 1000 draws is in the other's.
    const auto an = torch::isin(a.narrow(0, 0, 1000), n);
    REQUIRE_FALSE(an.any().item<bool>());
  }
}
