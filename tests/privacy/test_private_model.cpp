// The private model check: layers that mix examples (BatchNorm) and trainable
// layers without a per-example rule are refused with a message naming the fix.
#include <catch2/catch.hpp>

#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/model.hpp"
#include "dpsgd/privacy/private_model.hpp"

using namespace dpsgd;

TEST_CASE("BatchNorm in a model is refused with the documented message", "[engines]") {
  class WithBatchNorm final : public models::Model {
   public:
    WithBatchNorm() {
      register_module("bn", torch::nn::BatchNorm2d(1));
      register_module("fc", models::Linear(4, 2));
    }
    torch::Tensor forward(const torch::Tensor& x) override { return x; }
  };
  WithBatchNorm model;
  REQUIRE_THROWS_WITH(privacy::inspect_model(model),
                      Catch::Contains("mixes the examples") && Catch::Contains("GroupNorm"));

  class Unsupported final : public models::Model {
   public:
    Unsupported() { register_module("plain", torch::nn::Linear(4, 2)); }
    torch::Tensor forward(const torch::Tensor& x) override { return x; }
  };
  Unsupported other;
  REQUIRE_THROWS_WITH(privacy::inspect_model(other), Catch::Contains("plain.weight"));
}
