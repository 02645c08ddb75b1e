// End to end: the CIFAR recipe's smoke config (WRN with GroupNorm and weight
// standardisation, augmentation multiplicity with crops and flips, the weight
// average) trains on CIFAR-format files written by scripts/make_cifar_like.py,
// reports both the raw and the averaged weights' test accuracy, earns an
// epsilon, and, killed midway, resumes to the uninterrupted run bit for bit
// (views, crops and the average are all in the checkpoint). The bench config
// times WRN-16-4 on CIFAR shapes.
#include <csignal>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/util/state_file.hpp"
#include "tests/helpers/background_run.hpp"
#include "tests/helpers/run_binary.hpp"
#include <unistd.h>

using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

// CIFAR-10 binary files of the given sizes under a fresh folder.
std::filesystem::path cifar_like(const std::string& name, int train, int test) {
  const auto dir = fresh_dir(name);
  const std::string command = "python3 " + std::string(DPSGD_SOURCE_DIR) +
                              "/scripts/make_cifar_like.py --out " + dir.string() + " --train " +
                              std::to_string(train) + " --test " + std::to_string(test) +
                              " --seed 3 > /dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  return dir;
}

}  // namespace

TEST_CASE("CIFAR smoke: a private WRN with augmentation multiplicity and EMA", "[e2e][cifar]") {
  const auto data = cifar_like("dpsgd_cifar_smoke_data", 1024, 256);
  const auto out = fresh_dir("dpsgd_cifar_smoke");
  const auto r = run_dpsgd("run configs/cifar10_wrn16_4_smoke.yaml --device cpu --set data.root=" +
                           data.string() + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 1);
  const auto& row = index["runs"][0];
  REQUIRE(row["status"] == "completed");
  REQUIRE(row["epsilon"].get<double>() > 0.0);
  const auto summary = read_json(out / row["directory"].get<std::string>() / "summary.json");
  REQUIRE(summary["final_test"].contains("accuracy"));
  REQUIRE(summary["final_test_ema"].contains("accuracy"));
  REQUIRE(summary["config"]["data"]["augment"]["multiplicity"] == 2);
  const auto run_dir = out / row["directory"].get<std::string>();
  const auto raw = dpsgd::util::load_tensor_dict(run_dir / "model.pt");
  const auto ema = dpsgd::util::load_tensor_dict(run_dir / "model_ema.pt");
  REQUIRE(raw.size() == ema.size());
  REQUIRE_FALSE(torch::equal(raw.begin()->second, ema.at(raw.begin()->first)));
  // 1024 examples at batch 128: 8 steps per epoch, two epochs; statistics per example.
  const auto metrics = read_json(out / row["directory"].get<std::string>() / "metrics.json");
  REQUIRE(metrics["iterations"].size() == 16);
  // Poisson batches of expected size 128 (views would count 256): examples, not views.
  double drawn = 0;
  for (const auto& it : metrics["iterations"]) drawn += it["batch_size"].get<double>();
  REQUIRE(drawn / 16.0 > 100.0);
  REQUIRE(drawn / 16.0 < 160.0);
}

TEST_CASE("CIFAR smoke: killed midway, the run resumes to the same result bit for bit",
          "[e2e][cifar][resume]") {
  const auto data = cifar_like("dpsgd_cifar_resume_data", 1024, 256);
  const std::string base =
      "run configs/cifar10_wrn16_4_smoke.yaml --device cpu --set data.root=" + data.string() +
      " --set output.checkpoint_every_s=0";
  const auto ref = fresh_dir("dpsgd_cifar_resume_ref");
  auto r = run_dpsgd(base + " --out " + ref.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto out = fresh_dir("dpsgd_cifar_resume_killed");
  const auto run_dir = out / "sigma-1";
  {
    dpsgd::test::BackgroundRun bg(base + " --out " + out.string());
    while (bg.running() && dpsgd::test::metrics_rows(run_dir) < 11) usleep(1000);
    REQUIRE(bg.running());
    bg.send(SIGKILL);
    REQUIRE(bg.wait() == 128 + SIGKILL);
  }
  r = run_dpsgd(base + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  REQUIRE(r.output.find("resuming from") != std::string::npos);
  auto strip = [](json doc) {
    for (auto& row : doc["iterations"]) row.erase("wall_time"), row.erase("step_time");
    for (auto& row : doc["evaluations"]) row.erase("wall_time");
    return doc;
  };
  const auto ref_dir = ref / "sigma-1";
  REQUIRE(strip(read_json(ref_dir / "metrics.json")) == strip(read_json(run_dir / "metrics.json")));
  for (const char* file : {"model.pt", "model_ema.pt"}) {
    const auto ma = dpsgd::util::load_tensor_dict(ref_dir / file);
    const auto mb = dpsgd::util::load_tensor_dict(run_dir / file);
    for (const auto& [name, t] : ma) {
      INFO(file << " " << name);
      REQUIRE(torch::equal(t, mb.at(name)));
    }
  }
}

TEST_CASE("CIFAR bench config: WRN-16-4 on CIFAR shapes runs every engine", "[e2e][cifar]") {
  const auto data = cifar_like("dpsgd_cifar_bench_data", 300, 16);
  const auto r = run_dpsgd(
      "bench configs/cifar10_wrn16_4_bench.yaml --device cpu --steps 1 --warmup 0 --json "
      "--set train.batch_size=8 --set train.physical_batch_size=8 --set data.root=" +
      data.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
}
