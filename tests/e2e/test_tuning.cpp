// End to end: a `sweep:` with `tuning:` trains every point, selects the best on
// the validation split, and reports what releasing only that run costs: the
// composition of all runs for a fixed grid, Papernot and Steinke's bound for a
// random number of trials. Needs Fashion-MNIST, as test_dpsgd_run.cpp.
#include <algorithm>
#include <cmath>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/helpers/run_binary.hpp"

using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

const std::string kTuned =
    "configs/smoke.yaml --device cpu --set train.epochs=1 --set data.val_from_train=256 "
    "--set privacy.noise_multiplier=1.0 --set tuning.metric=accuracy ";
const std::string kGrid =
    "--set 'sweep.keys={train.optimizer.lr: [0.5, 2.0], privacy.clipping.max_grad_norm: [0.1, "
    "1.0]}' ";

}  // namespace

TEST_CASE("tuning a grid: the selected run's epsilon is the composition of all", "[e2e][tuning]") {
  const auto out = fresh_dir("dpsgd_tuning_grid");
  const auto r = run_dpsgd("run " + kTuned + kGrid + "--out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 4);
  const auto tuning = read_json(out / "tuning.json");
  REQUIRE(tuning["status"] == "completed");
  REQUIRE(tuning["trials"] == "every");
  const double selected = tuning["epsilon_of_selected"].get<double>();
  int chosen = 0;
  double best_val = -1;
  double largest_own = 0;
  for (const auto& row : index["runs"]) {
    INFO(row.dump());
    REQUIRE(row["status"] == "completed");
    REQUIRE(row["epsilon_of_selected"].get<double>() == selected);
    REQUIRE(row.contains("settings"));
    largest_own = std::max(largest_own, row["epsilon"].get<double>());
    best_val = std::max(best_val, row["validation_accuracy"].get<double>());
    if (row["selected"] == true) {
      ++chosen;
      REQUIRE(row["directory"] == tuning["selected"]);
      REQUIRE(row["validation_accuracy"] == tuning["selected_metric"]);
    }
  }
  REQUIRE(chosen == 1);
  REQUIRE(tuning["selected_metric"].get<double>() == best_val);
  // Four runs with the same (sigma, q, steps): composition costs more than one
  // run and less than four times its epsilon (RDP composes sublinearly in epsilon).
  REQUIRE(selected > largest_own * 1.5);
  REQUIRE(selected < largest_own * 4);
  REQUIRE(tuning["epsilon_if_all_released"].get<double>() == selected);
  REQUIRE(index["runs"][0]["directory"] == "lr0.5_max_grad_norm0.1/sigma-1");
}

TEST_CASE("tuning with a random number of trials uses Papernot-Steinke", "[e2e][tuning]") {
  const auto out = fresh_dir("dpsgd_tuning_tnb");
  const auto r = run_dpsgd("run " + kTuned + kGrid +
                           "--set tuning.trials=truncated_negative_binomial --set tuning.gamma=0.5 "
                           "--out " +
                           out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto tuning = read_json(out / "tuning.json");
  REQUIRE(tuning["status"] == "completed");
  REQUIRE(tuning["expected_trials"].get<double>() == Approx(2.0));  // geometric, gamma 1/2
  const auto index = read_json(out / "index.json");
  REQUIRE(static_cast<std::int64_t>(index["runs"].size()) ==
          tuning["drawn_trials"].get<std::int64_t>());
  REQUIRE(index["runs"][0]["directory"].get<std::string>().rfind("trial1_lr", 0) == 0);
  const double one = tuning["epsilon_one_trial"].get<double>();
  const double selected = tuning["epsilon_of_selected"].get<double>();
  REQUIRE(std::isfinite(selected));
  REQUIRE(selected > one);
  REQUIRE_THAT(tuning["analysis"].get<std::string>(), Catch::Contains("Thm 2"));
}

TEST_CASE("tuning with runs missing selects nothing", "[e2e][tuning]") {
  const auto out = fresh_dir("dpsgd_tuning_incomplete");
  const auto r = run_dpsgd("run " + kTuned + kGrid +
                           "--only lr0.5_max_grad_norm0.1/sigma-1 --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto tuning = read_json(out / "tuning.json");
  REQUIRE(tuning["status"] == "incomplete");
  REQUIRE(tuning["finished_runs"] == 1);
  REQUIRE_FALSE(tuning.contains("epsilon_of_selected"));
  for (const auto& row : read_json(out / "index.json")["runs"]) {
    REQUIRE(row["epsilon_of_selected"].is_null());
  }
}

TEST_CASE("tuning refuses what its analysis cannot cover", "[e2e][tuning]") {
  const auto out = fresh_dir("dpsgd_tuning_refused");
  const auto no_val =
      run_dpsgd("run configs/smoke.yaml --device cpu --set tuning.metric=accuracy " + kGrid +
                "--out " + out.string());
  REQUIRE(no_val.code == 2);
  REQUIRE_THAT(no_val.output, Catch::Contains("data.val_from_train"));
  const auto swept =
      run_dpsgd("run " + kTuned + kGrid + "--set train.optimizer.lr=1 --out " + out.string());
  REQUIRE(swept.code == 2);
  REQUIRE_THAT(swept.output, Catch::Contains("swept"));
}
