#include "tests/helpers/engine_checks.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "tests/helpers/private_step.hpp"
#include "tests/helpers/rule_checks.hpp"

namespace dpsgd::test {
namespace {

// Clipped sum and pre-clipping norms of `engine` under flat clipping at `c`. An
// engine that clips microbatch means gets one example per call: a microbatch of
// one example is that example, so its output must equal per-example clipping.
std::vector<torch::Tensor> clipped_sum(const privacy::PrivateModel& pm, const std::string& engine,
                                       const torch::Tensor& x, const torch::Tensor& y, double c,
                                       torch::Tensor& norms, const models::Objective& objective) {
  const auto clipper = make_clipper("flat", {{"max_grad_norm", c}}, pm);
  const privacy::EngineContext ctx{&pm, &objective, clipper.get()};
  const auto& entry = privacy::engine_registry().get(engine);
  auto eng = entry.make(ctx);
  std::vector<torch::Tensor> sums;
  for (const auto& p : pm.params) sums.push_back(torch::zeros_like(p));
  if (!entry.traits.clips_microbatches) {
    norms = eng->accumulate(x, y, sums, nullptr).norms;
    return sums;
  }
  std::vector<torch::Tensor> each;
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    each.push_back(eng->accumulate(x.narrow(0, i, 1), y.narrow(0, i, 1), sums, nullptr).norms);
  }
  norms = torch::cat(each);
  return sums;
}

}  // namespace

void check_engines_against_loop(models::Model& model, const torch::Tensor& x,
                                const torch::Tensor& y, const models::Objective* objective) {
  const models::CrossEntropyObjective cross_entropy;
  const auto& loss = objective != nullptr ? *objective : cross_entropy;
  constexpr double kClip = 1e-4;
  const auto pm = privacy::inspect_model(model);
  torch::Tensor loop_norms;
  const auto reference = clipped_sum(pm, "loop", x, y, kClip, loop_norms, loss);
  REQUIRE(loop_norms.size(0) == x.size(0));
  REQUIRE((loop_norms > kClip).all().item<bool>());
  double sq = 0.0;
  for (const auto& s : reference) sq += s.pow(2).sum().item<double>();
  // Each clipped gradient has norm C: the sum is non-zero and at most B C.
  REQUIRE(std::sqrt(sq) > 1e-3 * kClip);
  REQUIRE(std::sqrt(sq) <= static_cast<double>(x.size(0)) * kClip * (1 + 1e-9));
  for (const auto& name : privacy::engine_registry().names()) {
    if (name == privacy::kAutoEngine || name == "loop") continue;
    INFO("engine " << name);
    torch::Tensor norms;
    const auto sums = clipped_sum(pm, name, x, y, kClip, norms, loss);
    REQUIRE(sums.size() == reference.size());
    REQUIRE(torch::allclose(norms, loop_norms, 1e-9, 1e-12));
    for (std::size_t k = 0; k < sums.size(); ++k) {
      INFO("parameter " << pm.param_names[k]);
      // Relative to C: every entry of the sum is at most B C in magnitude.
      require_close(sums[k] / kClip, reference[k] / kClip, 1e-8);
    }
  }
}

}  // namespace dpsgd::test
