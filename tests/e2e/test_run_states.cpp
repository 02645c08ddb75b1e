// End to end: how runs end and where their results go: model.pt (reloaded by
// `dpsgd-run evaluate` and by Python's torch.load), divergence, the privacy
// budget guard, and several processes writing one experiment folder.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/data/sampling/batch_sampler.hpp"
#include "dpsgd/util/state_file.hpp"
#include "tests/helpers/background_run.hpp"
#include "tests/helpers/run_binary.hpp"
#include "tests/helpers/skip.hpp"

namespace fs = std::filesystem;
using dpsgd::test::BackgroundRun;
using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

const std::string kOne = "configs/smoke.yaml --device cpu --set privacy.noise_multiplier=1.0";

json last_test_evaluation(const fs::path& run_dir) {
  json last;
  const auto metrics = read_json(run_dir / "metrics.json");  // alive for the loop
  for (const auto& row : metrics["evaluations"]) {
    if (row["split"] == "test") last = row;
  }
  return last;
}

}  // namespace

TEST_CASE("model.pt: evaluate reloads it to the run's final test metrics", "[e2e][model]") {
  const auto out = fresh_dir("dpsgd_model_pt");
  const auto r = run_dpsgd(kOne + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto run_dir = out / "sigma-1";
  const auto model = dpsgd::util::load_tensor_dict(run_dir / "model.pt");
  REQUIRE_FALSE(model.empty());
  for (const auto& [name, t] : model) {
    INFO(name);
    REQUIRE(name.find(".weight") + name.find(".bias") !=
            2 * std::string::npos);  // state-dict names
    REQUIRE(t.device().is_cpu());
  }
  const auto e = run_dpsgd("evaluate " + run_dir.string());
  INFO(e.output);
  REQUIRE(e.code == 0);
  const auto printed = json::parse(e.output.substr(e.output.find('{')));
  const auto final_row = last_test_evaluation(run_dir);
  for (const char* key : {"loss", "accuracy", "examples"}) {
    INFO(key);
    REQUIRE(printed[key] == final_row[key]);
  }
  REQUIRE(run_dpsgd("evaluate " + run_dir.string() + " --split val").code == 2);  // no val split
  REQUIRE(run_dpsgd("evaluate " + out.string()).code == 2);  // not a run folder

  SECTION("Python's torch.load reads it as a name -> tensor dict") {
    const auto py = dpsgd::test::python_with("torch");
    if (py.empty()) DPSGD_SKIP("no Python with torch here; the C++ reader was checked above");
    const auto listing = out / "names.json";
    const std::string cmd = py + " " + DPSGD_SOURCE_DIR + "/tests/python/load_model.py " +
                            (run_dir / "model.pt").string() + " > " + listing.string();
    REQUIRE(std::system(cmd.c_str()) == 0);
    const auto names = read_json(listing);
    REQUIRE(names.size() == model.size());
    for (const auto& [name, t] : model) {
      INFO(name);
      REQUIRE(names.contains(name));
      REQUIRE(names[name]["shape"] == json(t.sizes().vec()));
      REQUIRE(names[name]["sum"].get<double>() ==
              Approx(t.to(torch::kFloat64).sum().item<double>()).epsilon(1e-6));
    }
  }
}

TEST_CASE("a run whose loss stays non-finite is marked diverged, its last good checkpoint kept",
          "[e2e][states]") {
  for (const std::string setting :
       {"privacy.enabled=false --set train.optimizer.lr=1e38", "privacy.noise_multiplier=1e300"}) {
    INFO(setting);
    const auto out = fresh_dir("dpsgd_diverged");
    const auto r = run_dpsgd("configs/smoke.yaml --device cpu --set " + setting +
                             " --set train.divergence_steps=3 --set output.checkpoint_every_s=0 "
                             "--out " +
                             out.string());
    INFO(r.output);
    REQUIRE(r.code == 1);
    const auto row = read_json(out / "index.json")["runs"][0];
    REQUIRE(row["status"] == "diverged");
    const auto run_dir = out / row["directory"].get<std::string>();
    REQUIRE(read_json(run_dir / "summary.json")["status"] == "diverged");
    REQUIRE_FALSE(fs::exists(run_dir / "model.pt"));
    const auto rows = read_json(run_dir / "metrics.json")["iterations"];
    REQUIRE(rows.size() < 16);  // stopped early
    // The last good state (at worst the initial one) is kept, every weight finite.
    REQUIRE(fs::exists(run_dir / "checkpoint.pt"));
    const auto state = dpsgd::util::load_state_file(run_dir / "checkpoint.pt");
    REQUIRE(state.values["step"].get<std::size_t>() < rows.size());
    for (const auto& [name, t] : state.child("model").tensors) {
      INFO(name);
      REQUIRE(torch::isfinite(t).all().item<bool>());
    }
  }
}

TEST_CASE("privacy.max_epsilon stops before the step that would pass it", "[e2e][states]") {
  const auto out = fresh_dir("dpsgd_budget");
  const double budget = 3.5;  // epsilon 3.16 after 4 steps, 3.79 after 8, 4.70 after 16
  const auto r = run_dpsgd(kOne + " --set privacy.max_epsilon=" + std::to_string(budget) +
                           " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto summary = read_json(out / "sigma-1" / "summary.json");
  REQUIRE(summary["status"] == "budget_exhausted");
  const auto steps = summary["steps"].get<std::int64_t>();
  REQUIRE(steps > 0);
  REQUIRE(steps < 16);
  REQUIRE(summary["epsilon"].get<double>() <= budget);
  REQUIRE(fs::exists(out / "sigma-1" / "model.pt"));
  REQUIRE(summary["final_test"].contains("accuracy"));
  // Stopped at a step boundary mid-epoch: one final test evaluation, no duplicate.
  std::size_t final_rows = 0;
  const auto metrics = read_json(out / "sigma-1" / "metrics.json");
  for (const auto& row : metrics["evaluations"]) final_rows += row["step"] == steps ? 1 : 0;
  REQUIRE(final_rows == 1);
  REQUIRE(metrics["iterations"].size() == static_cast<std::size_t>(steps));
  // One more step would have passed the budget.
  auto accountant = dpsgd::accounting::accountant_registry().get("rdp")({});
  accountant->step(1.0, dpsgd::data::poisson_sample_rate(128, 1024), steps + 1);
  REQUIRE(dpsgd::accounting::reported_epsilon(accountant->epsilon(1e-5)) > budget);
  // A budget below one step's epsilon is refused before training.
  REQUIRE(run_dpsgd(kOne + " --set privacy.max_epsilon=1e-6 --out " + out.string()).code == 2);
}

TEST_CASE("two processes writing one experiment folder lose no index row", "[e2e][states]") {
  const auto out = fresh_dir("dpsgd_two_writers");
  const auto file = out.string() + "_config.yaml";
  {
    std::ofstream f(file);
    f << "name: two_writers\nseed: 0\ndata: {name: fashion_mnist, train_size: 512, test_size: "
         "256}\nmodel: {name: tanh_cnn}\ntrain: {epochs: 1, batch_size: 64}\nprivacy: "
         "{noise_multiplier: [1.0, 2.0], clipping: {mode: flat, max_grad_norm: 0.1}}\n"
         "variants:\n  a: {train.optimizer.lr: 0.5}\n  b: {train.optimizer.lr: 1.0}\n";
  }
  const std::string base = file + " --device cpu --out " + out.string();
  BackgroundRun whole(base);  // every run of both variants
  BackgroundRun again(base);  // the same command at the same time
  BackgroundRun only_b(base + " --variant b");
  REQUIRE(whole.wait() == 0);
  REQUIRE(again.wait() == 0);
  REQUIRE(only_b.wait() == 0);
  const auto runs = read_json(out / "index.json")["runs"];
  std::set<std::string> dirs;
  for (const auto& row : runs) {
    INFO(row.dump());
    REQUIRE(row["status"] == "completed");
    dirs.insert(row["directory"].get<std::string>());
    REQUIRE(read_json(out / row["directory"].get<std::string>() / "summary.json")["status"] ==
            "completed");
  }
  REQUIRE(runs.size() == 4);
  REQUIRE(dirs.size() == 4);
}

TEST_CASE("output.unprotected_columns: false leaves out what the guarantee does not cover",
          "[e2e][states]") {
  const auto out = fresh_dir("dpsgd_protected_columns");
  const auto r = run_dpsgd(kOne + " --set output.unprotected_columns=false --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto metrics = read_json(out / "sigma-1" / "metrics.json");
  REQUIRE(metrics["iterations"].size() == 16);
  for (const auto& row : metrics["iterations"]) {
    for (const char* key : {"loss", "accuracy", "batch_size", "clipped_fraction", "mean_grad_norm",
                            "step_time", "nonfinite_examples"}) {
      INFO(key);
      REQUIRE_FALSE(row.contains(key));
    }
    for (const char* key : {"step", "epoch", "epsilon", "delta", "lr", "noise_std"}) {
      INFO(key);
      REQUIRE(row.contains(key));
    }
  }
  // Test-set evaluations are not training data: they stay.
  REQUIRE(metrics["evaluations"].back().contains("accuracy"));
}
