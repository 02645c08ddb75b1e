// Randomness of the private step (issue 13): every consumer (noise, masks,
// microbatch assignment, adaptive count noise) restores bit-for-bit from its
// state, and secure_rng draws all of them from the OS CSPRNG, touching no
// seeded generator.
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <catch2/catch.hpp>

#include "dpsgd/accounting/rdp_accountant.hpp"
#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/privacy/gaussian_noise.hpp"
#include "tests/helpers/private_step.hpp"

using namespace dpsgd;

namespace {

struct Net {
  models::ModelPtr model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  privacy::PrivateModel pm = privacy::inspect_model(*model);
  std::shared_ptr<models::CrossEntropyObjective> objective =
      std::make_shared<models::CrossEntropyObjective>();
  torch::Tensor x = torch::rand({6, 1, 28, 28});
  torch::Tensor y = torch::randint(0, 10, {6}, torch::kInt64);
};

std::shared_ptr<privacy::Clipper> clipper_of(const Net& net, const std::string& mode,
                                             const nlohmann::json& options, bool secure) {
  privacy::ClippingRunFacts facts;
  facts.expected_batch_size = 6.0;
  facts.noise_multiplier = 1.0;
  facts.steps_per_epoch = 4;
  facts.epochs = 3;
  facts.run_seed = 3;
  facts.secure_rng = secure;
  const auto given = options.is_null() ? nlohmann::json::object() : options;
  return privacy::make_clipping_spec(mode, given).make(net.pm, facts);
}

std::unique_ptr<privacy::DpGradient> dp_of(const Net& net, std::shared_ptr<privacy::Clipper> c,
                                           std::int64_t microbatches, bool secure,
                                           std::uint64_t seed) {
  auto options = test::dp_options(1.0, 6, 0, "auto", microbatches, seed);
  options.secure_rng = secure;
  auto noise =
      secure ? privacy::GaussianNoise::secure() : privacy::GaussianNoise(seed, torch::kCPU);
  return std::make_unique<privacy::DpGradient>(
      net.pm, net.objective, std::move(c), std::move(noise),
      std::make_unique<accounting::RdpAccountant>(), options);
}

// The released gradients and the clipper's values of `steps` steps.
std::vector<torch::Tensor> run_steps(Net& net, privacy::DpGradient& dp, int steps) {
  std::vector<torch::Tensor> out;
  for (int t = 0; t < steps; ++t) {
    const auto stats = dp.compute(net.x, net.y);
    for (const auto& p : net.pm.params) out.push_back(p.grad().clone());
    for (const auto& [name, v] : stats.clipper_values)
      out.push_back(torch::tensor({v}, torch::kFloat64));
  }
  return out;
}

// Adaptive's count noise must exceed sigma / 2 = 0.5 (default q N / 20 = 0.3 here).
nlohmann::json options_of(const std::string& mode) {
  return mode == "adaptive" ? nlohmann::json{{"count_noise_std", 1.0}} : nlohmann::json::object();
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("Gaussian noise: a restored state draws the same noise", "[noise][state]") {
  privacy::GaussianNoise a(8, torch::kCPU);
  (void)a.sample({100}, 1.0, torch::kFloat32);
  const auto saved = a.state();
  const auto expected = a.sample({100}, 2.0, torch::kFloat32);
  privacy::GaussianNoise fresh(9, torch::kCPU);
  fresh.load_state(saved);
  REQUIRE(torch::equal(fresh.sample({100}, 2.0, torch::kFloat32), expected));
}

TEST_CASE("clippers: adaptive and sparsification states restore bit-for-bit", "[clipping][state]") {
  Net net;
  SECTION("adaptive: threshold and count noise") {
    auto a = clipper_of(net, "adaptive", {{"max_grad_norm", 0.1}, {"count_noise_std", 1.0}}, false);
    const auto norms = torch::rand({50}, torch::kFloat64);
    for (int t = 0; t < 3; ++t) a->end_step(norms, 6.0, 1.0);
    const auto saved = a->state();
    std::vector<double> expected;
    for (int t = 0; t < 5; ++t) {
      a->end_step(norms, 6.0, 1.0);
      expected.push_back(a->sensitivity());
    }
    auto fresh =
        clipper_of(net, "adaptive", {{"max_grad_norm", 0.1}, {"count_noise_std", 1.0}}, false);
    fresh->load_state(saved);
    for (int t = 0; t < 5; ++t) {
      fresh->end_step(norms, 6.0, 1.0);
      REQUIRE(fresh->sensitivity() == expected[static_cast<std::size_t>(t)]);  // bitwise
    }
  }
  SECTION("random sparsification: the period and its mask") {
    const nlohmann::json opts = {{"final_rate", 0.6}, {"refresh", 2}};
    for (bool secure : {false, true}) {
      auto a = clipper_of(net, "random_sparsification", opts, secure);
      for (int t = 0; t <= 5; ++t) a->begin_step(t);  // mid-period: periods have 2 steps
      const auto saved = a->state();
      std::vector<torch::Tensor> expected;
      for (int t = 5; t < 12; ++t) {
        a->begin_step(t);
        for (const auto& m : *a->coordinate_masks()) expected.push_back(m.clone());
      }
      auto fresh = clipper_of(net, "random_sparsification", opts, secure);
      fresh->load_state(saved);
      std::vector<torch::Tensor> got;
      for (int t = 5; t < 12; ++t) {
        fresh->begin_step(t);
        for (const auto& m : *fresh->coordinate_masks()) got.push_back(m.clone());
      }
      // Seeded: every later mask equals the uninterrupted run's; secure: the
      // rest of the saved period does (later periods are fresh OS draws).
      if (secure) {
        const auto per_step = net.pm.params.size();
        expected.resize(per_step);
        got.resize(per_step);
      }
      REQUIRE(same(got, expected));
    }
  }
}

TEST_CASE("private step: a restored state continues bit-for-bit", "[dpstep][state]") {
  Net net;
  for (const auto& [mode, microbatches] :
       std::vector<std::pair<std::string, std::int64_t>>{{"flat", 3}, {"adaptive", 0}}) {
    INFO(mode);
    const auto opts = options_of(mode);
    auto a = dp_of(net, clipper_of(net, mode, opts, false), microbatches, false, 21);
    (void)run_steps(net, *a, 3);
    const auto saved = a->state();
    REQUIRE(saved.values.at("step") == 3);
    REQUIRE(saved.values.at("accountant").size() == 1);
    const auto expected = run_steps(net, *a, 4);
    auto fresh = dp_of(net, clipper_of(net, mode, opts, false), microbatches, false, 22);
    fresh->load_state(saved);
    REQUIRE(fresh->steps() == 3);
    REQUIRE(same(run_steps(net, *fresh, 4), expected));
    REQUIRE(fresh->accountant().history().size() == 1);
    REQUIRE(fresh->accountant().history()[0].steps == 7);
    // Only a fresh step may load, and a secure one refuses a seeded state.
    REQUIRE_THROWS(fresh->load_state(saved));
    auto secure = dp_of(net, clipper_of(net, mode, opts, true), microbatches, true, 21);
    REQUIRE_THROWS(secure->load_state(saved));
  }
}

TEST_CASE("secure_rng: noise, masks, microbatches and count noise touch no seeded generator",
          "[dpstep][secure]") {
  Net net;
  auto& global = at::detail::getDefaultCPUGenerator();
  const auto before = global.get_state();
  std::vector<std::vector<torch::Tensor>> runs;
  for (int run = 0; run < 2; ++run) {
    std::vector<torch::Tensor> all;
    auto micro = dp_of(net, clipper_of(net, "flat", {}, true), 3, true, 0);
    auto adaptive =
        dp_of(net, clipper_of(net, "adaptive", options_of("adaptive"), true), 0, true, 0);
    auto sparse = dp_of(
        net, clipper_of(net, "random_sparsification", {{"final_rate", 0.6}, {"refresh", 2}}, true),
        0, true, 0);
    for (auto* dp : {micro.get(), adaptive.get(), sparse.get()}) {
      for (auto& t : run_steps(net, *dp, 6)) all.push_back(t);
      // Nothing seeded to save: no generator state anywhere in the step.
      for (const auto& [name, t] : dp->state().tensors) {
        INFO(name);
        REQUIRE(name.find("generator") == std::string::npos);
      }
    }
    runs.push_back(all);
  }
  REQUIRE(torch::equal(global.get_state(), before));
  // Same seed, same configuration: secure runs still differ.
  REQUIRE_FALSE(same(runs[0], runs[1]));
  // A secure step refuses a seeded noise source.
  auto options = test::dp_options(1.0, 6, 0, "auto");
  options.secure_rng = true;
  REQUIRE_THROWS_AS(privacy::DpGradient(net.pm, net.objective, clipper_of(net, "flat", {}, true),
                                        privacy::GaussianNoise(1, torch::kCPU),
                                        std::make_unique<accounting::RdpAccountant>(), options),
                    std::invalid_argument);
}
