// train.precision: bf16. The forward runs under autocast; per-example norms,
// clipping, the clipped sum, the noise and the gradient the optimizer reads are
// float32. On CPU the bf16 clipped sums must agree with float32 within the
// precision bf16 allows (8 bits of mantissa: ~0.4% per rounding; we allow 5%
// of the sum's norm), and must differ from them (else autocast did not run).
#include <catch2/catch.hpp>

#include "dpsgd/models/layers/group_norm.hpp"
#include "dpsgd/models/layers/linear.hpp"
#include "dpsgd/models/layers/ws_conv2d.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;

namespace {

class SmallNet final : public models::Model {
 public:
  SmallNet() {
    models::Conv2dOptions o;
    o.in_channels = 3;
    o.out_channels = 8;
    o.padding = {1, 1};
    conv_ = register_module("conv", models::WsConv2d(o));
    norm_ = register_module("norm", models::GroupNorm(models::GroupNormOptions{4, 8, 1e-5, true}));
    head_ = register_module("head", models::Linear(8 * 8 * 8, 10));
  }
  torch::Tensor forward(const torch::Tensor& x) override {
    return head_->forward(torch::relu(norm_->forward(conv_->forward(x))).flatten(1));
  }

 private:
  models::WsConv2d conv_{nullptr};
  models::GroupNorm norm_{nullptr};
  models::Linear head_{nullptr};
};

struct Sums {
  std::vector<torch::Tensor> sums;
  torch::Tensor norms;
  torch::Tensor losses;
};

Sums clipped(SmallNet& net, const std::string& engine, util::Precision precision,
             const torch::Tensor& x, const torch::Tensor& y, double c) {
  auto pm = privacy::inspect_model(net);
  models::CrossEntropyObjective objective;
  privacy::FlatClipper clipper(c);
  auto eng = privacy::engine_registry().get(engine).make({&pm, &objective, &clipper, 1, precision});
  Sums out;
  for (const auto& p : pm.params) out.sums.push_back(torch::zeros_like(p));
  const auto stats = eng->accumulate(x, y, out.sums, nullptr);
  out.norms = stats.norms;
  out.losses = stats.losses;
  return out;
}

double norm_of(const std::vector<torch::Tensor>& ts) {
  double sq = 0.0;
  for (const auto& t : ts) sq += t.to(torch::kFloat64).pow(2).sum().item<double>();
  return std::sqrt(sq);
}

}  // namespace

TEST_CASE("bf16 autocast on CPU: clipped sums within 5% of float32, all of it float32",
          "[engines][bf16]") {
  torch::manual_seed(41);
  SmallNet net;
  const auto x = torch::randn({16, 3, 8, 8});
  const auto y = torch::randint(0, 10, {16}, torch::kInt64);
  for (const char* engine : {"loop", "materialize", "ghost"}) {
    INFO("engine " << engine);
    for (double c : {0.1, 1e6}) {
      INFO("clipping threshold " << c);
      const auto f32 = clipped(net, engine, util::Precision::kFloat32, x, y, c);
      const auto bf16 = clipped(net, engine, util::Precision::kBf16, x, y, c);
      std::vector<torch::Tensor> diff;
      for (std::size_t k = 0; k < f32.sums.size(); ++k) {
        CHECK(bf16.sums[k].scalar_type() == torch::kFloat32);
        diff.push_back(bf16.sums[k] - f32.sums[k]);
      }
      CHECK(bf16.norms.scalar_type() == torch::kFloat32);
      const double rel = norm_of(diff) / norm_of(f32.sums);
      CHECK(rel < 0.05);
      CHECK(rel > 0.0);  // bf16 really ran: the sums are not float32's bit for bit
      CHECK(((bf16.norms - f32.norms).abs() / f32.norms).max().item<double>() < 0.05);
    }
  }
}

TEST_CASE("bf16 autocast: the private step's noise and gradient are float32", "[dpstep][bf16]") {
  torch::manual_seed(42);
  SmallNet net;
  auto pm = privacy::inspect_model(net);
  const auto x = torch::randn({8, 3, 8, 8});
  const auto y = torch::randint(0, 10, {8}, torch::kInt64);
  auto grads = [&](util::Precision precision, double sigma) {
    auto options = test::dp_options(sigma, 8, 0, "ghost");
    options.precision = precision;
    auto dp = test::make_dp(pm, std::make_shared<models::CrossEntropyObjective>(),
                            std::make_shared<privacy::FlatClipper>(1.0), options,
                            /*noise_seed=*/5);
    dp->compute(x, y);
    std::vector<torch::Tensor> out;
    for (const auto& p : net.parameters()) out.push_back(p.grad().clone());
    return out;
  };
  const auto noisy_bf16 = grads(util::Precision::kBf16, 2.0);
  const auto noisy_f32 = grads(util::Precision::kFloat32, 2.0);
  const auto clean_bf16 = grads(util::Precision::kBf16, 0.0);
  const auto clean_f32 = grads(util::Precision::kFloat32, 0.0);
  for (std::size_t k = 0; k < noisy_bf16.size(); ++k) {
    INFO("parameter " << k);
    CHECK(noisy_bf16[k].scalar_type() == torch::kFloat32);
    // The same seeded float32 noise in both: (noisy - clean) is the noise / qN,
    // identical to float32 rounding whatever precision the forward used.
    const auto noise_bf16 = noisy_bf16[k] - clean_bf16[k];
    const auto noise_f32 = noisy_f32[k] - clean_f32[k];
    CHECK((noise_bf16 - noise_f32).abs().max().item<double>() < 1e-5);
  }
}
