// data::make_views: K views per example, each a crop of the reflection-padded
// example at the original size, flipped with probability 1/2; masks move with
// their images; labels repeat. Every view must be one of the (2p+1)^2 x 2
// possible transformations of its own example, and all of them must occur.
#include <set>
#include <tuple>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/data/augment/example_views.hpp"

using namespace dpsgd;

namespace {

// The crop at offset (dy, dx) of the image padded by p, flipped when asked: the definition.
torch::Tensor crop(const torch::Tensor& image, std::int64_t p, std::int64_t dy, std::int64_t dx,
                   bool flip) {
  namespace F = torch::nn::functional;
  const auto padded =
      F::pad(image.unsqueeze(0), F::PadFuncOptions({p, p, p, p}).mode(torch::kReflect)).squeeze(0);
  auto out = padded.narrow(-2, dy, image.size(-2)).narrow(-1, dx, image.size(-1));
  return flip ? out.flip(-1) : out;
}

}  // namespace

TEST_CASE("make_views: every view is a reflection-padded crop or flip of its own example",
          "[augment]") {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(7);
  const std::int64_t b = 3;
  const std::int64_t k = 40;
  const std::int64_t p = 2;
  const auto x = torch::randn({b, 2, 6, 5});
  const auto y = torch::tensor({4, 1, 7}, torch::kInt64);
  const auto [xv, yv] = data::make_views(x, y, {k, p, true}, rng);
  REQUIRE(xv.sizes() == torch::IntArrayRef({b * k, 2, 6, 5}));
  REQUIRE(yv.sizes() == torch::IntArrayRef({b * k}));
  std::set<std::tuple<std::int64_t, std::int64_t, bool>> seen;
  for (std::int64_t row = 0; row < b * k; ++row) {
    const std::int64_t i = row / k;
    CHECK(yv[row].item<std::int64_t>() == y[i].item<std::int64_t>());
    bool found = false;
    for (std::int64_t dy = 0; dy <= 2 * p && !found; ++dy) {
      for (std::int64_t dx = 0; dx <= 2 * p && !found; ++dx) {
        for (bool flip : {false, true}) {
          if (torch::equal(xv[row], crop(x[i], p, dy, dx, flip))) {
            found = true;
            seen.insert({dy, dx, flip});
            break;
          }
        }
      }
    }
    INFO("view " << row << " of example " << i);
    CHECK(found);
  }
  CHECK(seen.size() > 25);  // 50 transformations; 120 draws cover most of them
}

TEST_CASE("make_views: masks are cropped and flipped with their images", "[augment]") {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(8);
  const auto labels = torch::randint(0, 5, {4, 7, 7}, torch::kInt64);
  const auto x = labels.unsqueeze(1).to(torch::kFloat32);
  const auto [xv, yv] = data::make_views(x, labels, {3, 2, true}, rng);
  REQUIRE(yv.sizes() == torch::IntArrayRef({12, 7, 7}));
  CHECK(torch::equal(xv.squeeze(1).to(torch::kInt64), yv));
}

TEST_CASE("make_views: no crop and no flip repeats each example K times", "[augment]") {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(9);
  const auto x = torch::randn({2, 3, 4, 4});
  const auto y = torch::tensor({0, 1}, torch::kInt64);
  const auto [xv, yv] = data::make_views(x, y, {4, 0, false}, rng);
  CHECK(torch::equal(xv, x.repeat_interleave(4, 0)));
  CHECK(torch::equal(yv, y.repeat_interleave(4, 0)));
  REQUIRE_THROWS_AS(data::make_views(x, y, {2, 4, false}, rng), std::invalid_argument);
}
