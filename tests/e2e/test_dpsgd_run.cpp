// End to end: the dpsgd-run binary on the smoke config, and its exit codes for
// bad input. Needs the Debian dataset-fashion-mnist package (installed by
// scripts/install-deps.sh).
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/helpers/run_binary.hpp"

namespace fs = std::filesystem;

using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;

namespace {
dpsgd::test::RunResult run(const std::string& args) { return dpsgd::test::run_dpsgd(args); }
}  // namespace

TEST_CASE("smoke config: a sweep of private runs with every required metric", "[e2e]") {
  const auto out = fresh_dir("dpsgd_e2e_smoke");
  const auto r = run("configs/smoke.yaml --device cpu --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 2);
  double previous_final_eps = 1e300;
  for (const auto& row : index["runs"]) {
    REQUIRE(row["status"] == "completed");
    const auto dir = out / row["directory"].get<std::string>();
    REQUIRE(fs::exists(dir / "config.yaml"));
    const auto metrics = read_json(dir / "metrics.json");
    REQUIRE(metrics["schema_version"] == 1);
    const auto& its = metrics["iterations"];
    REQUIRE(its.size() == 16);  // 2 epochs x floor(1024 / 128)
    double last_eps = 0;
    for (const auto& it : its) {
      for (const char* key : {"step", "epoch", "loss", "accuracy", "epsilon", "wall_time",
                              "batch_size", "clipped_fraction", "mean_grad_norm"}) {
        INFO("key " << key);
        REQUIRE(it.contains(key));
      }
      REQUIRE(it["epsilon"].get<double>() > last_eps);  // epsilon grows every step
      last_eps = it["epsilon"].get<double>();
    }
    REQUIRE(metrics["evaluations"].size() == 2);
    REQUIRE(metrics["evaluations"][1].contains("accuracy"));
    const auto summary = read_json(dir / "summary.json");
    for (const char* key :
         {"final_test", "epsilon", "delta", "total_time_s", "phase_times_s", "peak_memory_bytes",
          "config", "seed", "device", "libtorch_version", "git_commit"}) {
      INFO("summary key " << key);
      REQUIRE(summary.contains(key));
    }
    REQUIRE(summary["epsilon"].get<double>() == Approx(last_eps));
    // Larger sigma (second run) spends less privacy.
    REQUIRE(summary["epsilon"].get<double>() < previous_final_eps);
    previous_final_eps = summary["epsilon"].get<double>();
  }
}

TEST_CASE("bad input exits with code 2 and a clear message", "[e2e]") {
  const auto out = fresh_dir("dpsgd_e2e_bad");
  auto r = run("configs/smoke.yaml --out " + out.string() + " --set privacy.noise_multiplier=-1");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("privacy.noise_multiplier"));
  r = run("configs/smoke.yaml --out " + out.string() + " --set model.name=vgg");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("tanh_cnn"));
  r = run("configs/smoke.yaml --out " + out.string() + " --set data.root=/nonexistent/fmnist");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("/nonexistent/fmnist"));
  r = run("configs/smoke.yaml --out " + out.string() + " --set train.batch_size=5000");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("train.batch_size"));
  r = run("configs/smoke.yaml --out " + out.string() + " --set train.bogus=1");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("train.bogus"));
  r = run("configs/does_not_exist.yaml");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Catch::Contains("does_not_exist.yaml"));
  // Never a stack trace.
  CHECK_THAT(r.output, !Catch::Contains("Exception raised from"));
}

TEST_CASE("bench --json: every engine timed against non-private, with phases and memory",
          "[e2e][bench]") {
  const auto r = run("bench configs/smoke.yaml --steps 2 --json --device cpu");
  INFO(r.output);
  REQUIRE(r.code == 0);
  // The JSON object is the last line (log lines go before it).
  const auto start = r.output.rfind("\n{");
  const auto j = nlohmann::json::parse(r.output.substr(start == std::string::npos ? 0 : start));
  REQUIRE(j.at("device") == "cpu");
  REQUIRE(j.at("batch_size") == 128);
  REQUIRE(j.at("nonprivate").at("median_step_s").get<double>() > 0);
  for (const char* engine : {"materialize", "ghost"}) {
    const auto& e = j.at("engines").at(engine);
    REQUIRE(e.at("median_step_s").get<double>() > 0);
    REQUIRE(e.at("ratio_to_nonprivate").get<double>() > 0);
    REQUIRE(e.at("peak_memory_bytes").get<double>() > 0);
    for (const char* phase : {"forward", "backward", "norms", "clip_sum", "noise", "optimizer"}) {
      INFO(engine << " " << phase);
      REQUIRE(e.at("phases").at(phase).get<double>() >= 0);
    }
  }
  // A clipping mode that needs per-example gradients benches only engines that can run it.
  const auto rs =
      run("bench configs/smoke.yaml --steps 1 --json --device cpu --set "
          "privacy.clipping.mode=random_sparsification --set privacy.engine=auto");
  INFO(rs.output);
  REQUIRE(rs.code == 0);
  REQUIRE(rs.output.find("\"materialize\"") != std::string::npos);
  REQUIRE(rs.output.find("\"ghost\"") == std::string::npos);
  // Microbatches: the microbatch engine only, by the same engine-choice rule.
  const auto mb =
      run("bench configs/smoke.yaml --steps 1 --warmup 1 --json --device cpu --set "
          "privacy.microbatches=4 --set privacy.engine=auto");
  INFO(mb.output);
  REQUIRE(mb.code == 0);
  const auto mj = nlohmann::json::parse(mb.output.substr(mb.output.rfind("\n{")));
  REQUIRE(mj.at("engines").size() == 1);
  REQUIRE(mj.at("engines").contains("microbatch"));
  // An engine that cannot run the method is refused with exit code 2.
  REQUIRE(run("bench configs/smoke.yaml --steps 1 --device cpu --engines ghost --set "
              "privacy.microbatches=4 --set privacy.engine=auto")
              .code == 2);
}

TEST_CASE("oct_smoke: private U-Net on OCT B-scans records Dice on val each epoch and test",
          "[e2e][oct]") {
  const auto out = fresh_dir("dpsgd_e2e_oct");
  const auto r = run("configs/oct_smoke.yaml --device cpu --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 1);
  const auto dir = out / index["runs"][0]["directory"].get<std::string>();
  const auto metrics = read_json(dir / "metrics.json");
  const auto& its = metrics["iterations"];
  REQUIRE(its.size() == 6);  // 2 epochs x floor(12 / 4)
  for (const auto& it : its) {
    REQUIRE(it.contains("dice"));
    REQUIRE(it["epsilon"].get<double>() > 0.0);
  }
  std::vector<std::string> splits;
  for (const auto& e : metrics["evaluations"]) {
    splits.push_back(e["split"]);
    for (const char* key : {"loss", "dice", "dice_all", "pixel_accuracy", "dice_per_class"}) {
      INFO("evaluation key " << key);
      REQUIRE(e.contains(key));
    }
    REQUIRE(e["dice_per_class"].size() == 9);
    REQUIRE(e["dice"].get<double>() >= 0.0);
    REQUIRE(e["dice"].get<double>() <= 1.0);
  }
  REQUIRE(splits == std::vector<std::string>{"val", "val", "test"});
  const auto summary = read_json(dir / "summary.json");
  REQUIRE(summary["final_test"]["split"] == "test");
  REQUIRE(summary["final_test"]["examples"] == 4);
  REQUIRE(summary["val_examples"] == 4);
  REQUIRE(summary["loss_function"] == "cross_entropy_dice");
  REQUIRE(summary["privacy"]["clipping"] == "automatic");
}

TEST_CASE("variants: Nested U-Net and a non-private baseline in one command", "[e2e][oct]") {
  const auto out = fresh_dir("dpsgd_e2e_oct_variants");
  const auto cfg = fresh_dir("dpsgd_e2e_oct_variants_cfg");
  fs::create_directories(cfg);
  {
    std::ifstream in(std::string(DPSGD_SOURCE_DIR) + "/configs/oct_smoke.yaml");
    std::ofstream o(cfg / "v.yaml");
    o << in.rdbuf()
      << "variants:\n"
         "  nested: {model.name: nested_unet, privacy.engine: ghost}\n"
         "  baseline: {privacy.enabled: false}\n";
  }
  const auto r = run((cfg / "v.yaml").string() + " --device cpu --set train.epochs=1 " +
                     "--set data.train_size=8 --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 2);
  REQUIRE(index["runs"][0]["directory"] == "nested/sigma-1");
  REQUIRE(index["runs"][1]["directory"] == "baseline/nonprivate");
  for (const auto& row : index["runs"]) {
    REQUIRE(row["status"] == "completed");
    const auto summary = read_json(out / row["directory"].get<std::string>() / "summary.json");
    REQUIRE(summary["final_test"].contains("dice"));
  }
  // A later call for one variant into the same folder keeps the other's row.
  const auto again = run((cfg / "v.yaml").string() + " --device cpu --set train.epochs=1 " +
                         "--set data.train_size=8 --variant baseline --out " + out.string());
  INFO(again.output);
  REQUIRE(again.code == 0);
  const auto merged = read_json(out / "index.json");
  REQUIRE(merged["runs"].size() == 2);
  REQUIRE(merged["runs"][0]["directory"] == "nested/sigma-1");
  REQUIRE(merged["runs"][0]["status"] == "completed");
  REQUIRE(merged["runs"][1]["directory"] == "baseline/nonprivate");
  const auto nested = read_json(out / "nested/sigma-1/summary.json");
  REQUIRE(nested["config"]["model"]["name"] == "nested_unet");
  REQUIRE(nested["privacy"]["engine"] == "ghost");
  REQUIRE(nested["variant"] == "nested");
}

TEST_CASE("oct_private: full-batch DP-GD of the filter-bank head meets its budgets on OCT",
          "[e2e][oct]") {
  // The shipped recipe cut to a CPU test: 32 x 32, 12 training B-scans, 3 steps,
  // the epsilon-8 and epsilon-2 budgets and the non-private twin. q = 1 (the whole
  // training set every step), sigma calibrated per budget, epsilon at or under it.
  const auto out = fresh_dir("dpsgd_e2e_oct_private");
  const auto r =
      run("configs/oct_private.yaml --device cpu --set 'data.image_size=[32, 32]' "
          "--set data.train_size=12 --set data.val_size=4 --set data.test_size=4 "
          "--set train.batch_size=12 --set train.epochs=3 --set 'model.scales=[1, 2]' "
          "--set 'privacy.target_epsilon=[8.0, 2.0]' --out " +
          out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 3);
  double sigma8 = 0.0;
  double sigma2 = 0.0;
  for (const auto& row : index["runs"]) {
    REQUIRE(row["status"] == "completed");
    const auto summary = read_json(out / row["directory"].get<std::string>() / "summary.json");
    REQUIRE(summary["steps"] == 3);
    REQUIRE(summary["final_test"].contains("dice"));
    if (!summary["private"].get<bool>()) continue;
    const auto& p = summary["privacy"];
    REQUIRE(p["sample_rate"].get<double>() == 1.0);
    const double target = p["target_epsilon"].get<double>();
    REQUIRE(summary["epsilon"].get<double>() <= target);
    REQUIRE(summary["epsilon"].get<double>() > 0.9 * target);
    (target == 8.0 ? sigma8 : sigma2) = p["noise_multiplier"].get<double>();
  }
  REQUIRE(sigma8 > 0.0);
  REQUIRE(sigma2 > 2.0 * sigma8);  // a smaller budget costs more noise
}

TEST_CASE("oct_private: filter-bank scales too large for the images are refused before training",
          "[e2e][oct]") {
  // Scale 16 reaches 48 pixels each way: more than a 32 x 32 image.
  const auto out = fresh_dir("dpsgd_e2e_oct_private_scales");
  const auto r =
      run("configs/oct_private.yaml --device cpu --set 'data.image_size=[32, 32]' "
          "--set data.train_size=12 --set train.batch_size=12 --variant private --out " +
          out.string());
  INFO(r.output);
  REQUIRE(r.code == 2);
  REQUIRE_THAT(r.output, Catch::Contains("model.scales") && Catch::Contains("data.image_size"));
}
