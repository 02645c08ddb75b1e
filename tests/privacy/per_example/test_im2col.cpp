// The two patch layouts of im2col.hpp hold the same patches.
#include <catch2/catch.hpp>

#include "dpsgd/models/zoo/tf_cnn.hpp"
#include "dpsgd/privacy/per_example/im2col.hpp"
#include "dpsgd/privacy/per_example/layer_rule.hpp"
#include "dpsgd/privacy/private_model.hpp"

using namespace dpsgd;

TEST_CASE("Position-major patches are the weight-order patches, reordered", "[im2col]") {
  torch::manual_seed(5);
  struct Case {
    privacy::PatchGeometry geometry;
    std::int64_t channels;
    std::int64_t groups;
    std::int64_t height;
    std::int64_t width;
  };
  const std::vector<Case> cases = {
      {{{4, 4}, {2, 2}, {0, 0}, {1, 1}}, 16, 1, 13, 13},  // TF-CNN conv2
      {{{3, 2}, {1, 3}, {2, 1}, {2, 1}}, 6, 3, 9, 11},    // groups, uneven geometry
      {{{1, 1}, {1, 1}, {0, 0}, {1, 1}}, 2, 2, 3, 4},     // 1x1, depthwise
  };
  for (const auto& c : cases) {
    const auto x = torch::randn({3, c.channels, c.height, c.width}, torch::kFloat64);
    const auto weight_order = privacy::unfold_by_group(x, c.geometry, c.groups);         // B,G,d,T
    const auto positions = privacy::unfold_positions_by_group(x, c.geometry, c.groups);  // B,G,T,d
    REQUIRE(positions.sizes() == weight_order.transpose(2, 3).sizes());
    // Same multiset of entries in every patch, and the same patch dot products.
    const auto sorted_a = std::get<0>(positions.sort(3));
    const auto sorted_b = std::get<0>(weight_order.transpose(2, 3).sort(3));
    REQUIRE(torch::equal(sorted_a, sorted_b));
    const auto gram_a = torch::matmul(positions, positions.transpose(2, 3));
    const auto gram_b = torch::matmul(weight_order.transpose(2, 3), weight_order);
    REQUIRE(torch::allclose(gram_a, gram_b, 1e-12, 1e-12));
  }
  // Asking for more positions than fit is a logic error, not a read past the end.
  const auto x = torch::randn({1, 1, 5, 5});
  REQUIRE_THROWS(
      privacy::unfold_positions_by_group(x, {{3, 3}, {1, 1}, {0, 0}, {1, 1}}, 1, {4, 3}));
}
