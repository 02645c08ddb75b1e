// The `sweep:` and `tuning:` blocks (config/sweep_section.hpp): grid points and
// random draws become configs whose names name their settings, random trials
// get their own seeds, and every misuse is refused with the key and the fix.
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/config/config_loader.hpp"
#include "tests/helpers/config_text.hpp"

using dpsgd::config::parse_experiment_variants;
using dpsgd::config::TrialCount;
using dpsgd::test::user_error_of;

namespace {

const std::string kBase = std::string("\n") + dpsgd::test::kMinimalConfig;
const std::string kGrid = kBase + R"(
sweep:
  keys:
    train.optimizer.lr: [0.5, 2]
    privacy.clipping.max_grad_norm: [0.1, 1.0, 10]
)";

std::string errors(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  return user_error_of([&] { (void)parse_experiment_variants(yaml, "s.yaml", sets); });
}

}  // namespace

TEST_CASE("sweep grid: every combination, named by its settings", "[config][sweep]") {
  const auto cs = parse_experiment_variants(kGrid, "s.yaml", {"train.epochs=1"});
  REQUIRE(cs.size() == 6);
  REQUIRE(cs[0].variant == "lr0.5_max_grad_norm0.1");
  REQUIRE(cs[5].variant == "lr2_max_grad_norm10");
  REQUIRE(cs[4].optimizer_options.lr == 2.0);
  REQUIRE(cs[4].privacy.clipping.max_grad_norm == 1.0);
  REQUIRE(cs[4].sweep_point.size() == 2);
  REQUIRE(cs[4].sweep_point[0].first == "train.optimizer.lr");
  for (const auto& c : cs) {
    REQUIRE(c.train.epochs == 1);  // --set applies to every point
    REQUIRE(c.seed == 0);          // grid points share the file's seed (paired comparison)
    REQUIRE_FALSE(c.tuning.enabled);
  }
  SECTION("variants times points, the variant name first") {
    const auto vs =
        parse_experiment_variants(kGrid + "variants:\n  a: {}\n  b: {train.epochs: 3}\n", "s.yaml");
    REQUIRE(vs.size() == 12);
    REQUIRE(vs[0].variant == "a-lr0.5_max_grad_norm0.1");
    REQUIRE(vs[6].variant == "b-lr0.5_max_grad_norm0.1");
    REQUIRE(vs[6].train.epochs == 3);
  }
}

TEST_CASE("a --set beats a variant's secure_rng, as it beats any variant setting",
          "[config][sweep]") {
  const auto cs = parse_experiment_variants(kBase + "variants:\n  a: {privacy.secure_rng: true}\n",
                                            "s.yaml", {"privacy.secure_rng=false"});
  REQUIRE(cs.size() == 1);
  REQUIRE_FALSE(cs[0].privacy.secure_rng);
}

TEST_CASE("sweep random draws and random tuning trials are seeded and numbered",
          "[config][sweep]") {
  const std::string draws = kBase + R"(
sweep:
  mode: random
  draws: 5
  keys: {train.optimizer.lr: [0.1, 0.2, 0.4, 0.8]}
)";
  const auto a = parse_experiment_variants(draws, "s.yaml");
  const auto b = parse_experiment_variants(draws, "s.yaml");
  REQUIRE(a.size() == 5);
  std::set<std::uint64_t> seeds;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].variant.rfind("draw" + std::to_string(i + 1) + "_lr", 0) == 0);
    REQUIRE(a[i].variant == b[i].variant);  // a function of the seed
    REQUIRE(a[i].train.seed == a[i].seed);
    seeds.insert(a[i].seed);
  }
  REQUIRE(seeds.size() == 5);  // each draw its own run seed
  const auto other = parse_experiment_variants(draws, "s.yaml", {"seed=7"});
  REQUIRE(other[0].seed != a[0].seed);
  const std::string trials = kBase + R"(
sweep:
  keys: {train.optimizer.lr: [0.1, 0.2, 0.4, 0.8]}
tuning: {metric: accuracy, trials: truncated_negative_binomial, eta: 1, gamma: 0.2}
)";
  const auto t = parse_experiment_variants(trials, "s.yaml", {"data.val_from_train=100"});
  REQUIRE_FALSE(t.empty());
  REQUIRE(t[0].variant.rfind("trial1_lr", 0) == 0);
  REQUIRE(t[0].tuning.enabled);
  REQUIRE(t[0].tuning.trials == TrialCount::kTruncatedNegativeBinomial);
  REQUIRE(t[0].tuning.gamma == 0.2);
  REQUIRE(t[0].tuning.drawn_trials == static_cast<std::int64_t>(t.size()));
  REQUIRE(t[0].data.val_from_train == 100);
}

TEST_CASE("sweep and tuning misuse is refused with the key and the fix", "[config][sweep]") {
  REQUIRE_THAT(errors(kGrid, {"train.optimizer.lr=1"}),
               Catch::Contains("swept") && Catch::Contains("sweep.keys={train.optimizer.lr"));
  REQUIRE_THAT(errors(kBase + "sweep: {keys: {epochs: [1, 2]}}\n"),
               Catch::Contains("sweep.keys.epochs"));
  REQUIRE_THAT(errors(kBase + "sweep: {keys: {train.epochs: []}}\n"),
               Catch::Contains("non-empty list"));
  REQUIRE_THAT(errors(kBase + "sweep: {draws: 3, keys: {train.epochs: [1, 2]}}\n"),
               Catch::Contains("sweep.draws"));
  REQUIRE_THAT(errors(kBase + "sweep: {mode: random, keys: {train.epochs: [1, 2]}}\n"),
               Catch::Contains("sweep.draws"));
  REQUIRE_THAT(errors(kBase + "tuning: {metric: accuracy, trials: binomial}\n"),
               Catch::Contains("tuning.trials") && Catch::Contains("poisson"));
  REQUIRE_THAT(errors(kBase + "tuning: {metric: accuracy, trials: poisson}\n"),
               Catch::Contains("tuning.mean"));
  REQUIRE_THAT(errors(kBase + "tuning: {metric: accuracy, gamma: 2, trials: "
                              "truncated_negative_binomial}\n"),
               Catch::Contains("tuning.gamma"));
  REQUIRE_THAT(errors(kBase + "tuning: {metric: accuracy, trials: poisson, mean: 3}\n",
                      {"privacy.secure_rng=true"}),
               Catch::Contains("secure_rng"));
  REQUIRE_THAT(errors(kBase + "tuning: {metric: accuracy, trials: poisson, mean: 3}\n",
                      {"privacy.noise_multiplier=[1, 2]"}),
               Catch::Contains("one value"));
  // Two points that would share a folder, and a variant that sets a swept key.
  REQUIRE_THAT(errors(kBase + "sweep: {keys: {train.optimizer.lr: [0.1, 0.1]}}\n"),
               Catch::Contains("both named 'lr0.1'"));
  REQUIRE(errors(kBase + "sweep: {keys: {train.optimizer.lr: [1e+3, 1e-3]}}\n").empty());
  REQUIRE_THAT(errors(kGrid + "variants:\n  a: {train.optimizer.lr: 3}\n"),
               Catch::Contains("variants.a.train.optimizer.lr") && Catch::Contains("swept"));
  // Keys that hold one another: the later setting would silently win.
  REQUIRE_THAT(errors(kBase + "sweep: {keys: {train.optimizer: [{name: sgd, lr: 1}]}}\n"
                              "variants:\n  a: {train.optimizer.lr: 3}\n"),
               Catch::Contains("variants.a.train.optimizer.lr") && Catch::Contains("swept"));
  REQUIRE_THAT(errors(kBase + "sweep: {keys: {train.optimizer: [{name: sgd, lr: 1}], "
                              "train.optimizer.lr: [1, 2]}}\n"),
               Catch::Contains("overlaps"));
  // secure_rng switched on by a variant is caught as surely as in the file.
  REQUIRE_THAT(errors(kBase + "sweep: {mode: random, draws: 2, keys: {train.epochs: [1, 2]}}\n"
                              "variants:\n  s: {privacy.secure_rng: true}\n"),
               Catch::Contains("secure_rng") && Catch::Contains("in 's"));
  REQUIRE_THAT(
      user_error_of([&] { (void)dpsgd::config::parse_experiment_config(kGrid, "s.yaml"); }),
      Catch::Contains("sweep"));
}
