// End to end: checkpoints and exact resume (SIGKILL at random steps), graceful
// stops on SIGINT/SIGTERM/SIGHUP, skipping finished runs, --restart, refusing a
// checkpoint of another config. Needs Fashion-MNIST, as test_dpsgd_run.cpp.
#include <csignal>
#include <filesystem>
#include <map>
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/util/state_file.hpp"
#include "tests/helpers/background_run.hpp"
#include "tests/helpers/run_binary.hpp"
#include <unistd.h>

namespace fs = std::filesystem;
using dpsgd::test::BackgroundRun;
using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

// 3 epochs of 8 steps; flips and momentum, so every piece of state matters.
const std::string kBase =
    "configs/smoke.yaml --device cpu --set privacy.noise_multiplier=1.0 --set train.epochs=3 "
    "--set data.augment.hflip=true";

json without_times(json doc) {
  for (auto& row : doc["iterations"]) {
    row.erase("wall_time");
    row.erase("step_time");
  }
  for (auto& row : doc["evaluations"]) row.erase("wall_time");
  return doc;
}

void require_same_run(const fs::path& a, const fs::path& b) {
  REQUIRE(without_times(read_json(a / "metrics.json")) ==
          without_times(read_json(b / "metrics.json")));
  const auto ma = dpsgd::util::load_tensor_dict(a / "model.pt");
  const auto mb = dpsgd::util::load_tensor_dict(b / "model.pt");
  REQUIRE(ma.size() == mb.size());
  for (const auto& [name, t] : ma) {
    INFO(name);
    REQUIRE(mb.count(name) == 1);
    REQUIRE(torch::equal(t, mb.at(name)));
  }
  auto sa = read_json(a / "summary.json");
  auto sb = read_json(b / "summary.json");
  sa["final_test"].erase("wall_time");
  sb["final_test"].erase("wall_time");
  REQUIRE(sb["status"] == "completed");
  REQUIRE(sa["final_test"] == sb["final_test"]);
  REQUIRE(sa["epsilon"] == sb["epsilon"]);
  REQUIRE(sa["steps"] == sb["steps"]);
}

// Starts `args`, waits until the run folder's metrics.json has `rows` step rows,
// then sends `signal`; returns the exit code.
int stop_at(const std::string& args, const fs::path& run_dir, std::size_t rows, int signal) {
  BackgroundRun bg(args);
  while (bg.running() && dpsgd::test::metrics_rows(run_dir) < rows) usleep(1000);
  INFO(bg.output());
  REQUIRE(bg.running());
  bg.send(signal);
  return bg.wait();
}

fs::path reference_run(const std::string& name) {
  const auto ref = fresh_dir(name);
  const auto r = run_dpsgd(kBase + " --out " + ref.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  return ref / "sigma-1";
}

}  // namespace

TEST_CASE("SIGKILL at random steps, then the same command: bitwise the uninterrupted run",
          "[e2e][resume]") {
  const auto ref = reference_run("dpsgd_resume_ref");
  const auto out = fresh_dir("dpsgd_resume_killed");
  const auto run_dir = out / "sigma-1";
  const std::string args = kBase + " --set output.checkpoint_every_s=0 --out " + out.string();
  std::mt19937 rng(std::random_device{}());
  const auto first = std::uniform_int_distribution<std::size_t>(2, 10)(rng);
  const auto second = std::uniform_int_distribution<std::size_t>(first + 2, 21)(rng);
  INFO("killed after step rows " << first << " and " << second);
  REQUIRE(stop_at(args, run_dir, first, SIGKILL) == 128 + SIGKILL);
  REQUIRE(fs::exists(run_dir / "checkpoint.pt"));
  REQUIRE(read_json(run_dir / "summary.json")["status"] == "running");  // killed: no marking
  REQUIRE(stop_at(args, run_dir, second, SIGKILL) == 128 + SIGKILL);
  const auto r = run_dpsgd(args);
  INFO(r.output);
  REQUIRE(r.code == 0);
  REQUIRE(r.output.find("resuming from") != std::string::npos);
  require_same_run(ref, run_dir);
  REQUIRE(read_json(out / "index.json")["runs"][0]["status"] == "completed");

  SECTION("a rerun skips the completed run; --restart trains it again, to the same result") {
    const auto again = run_dpsgd(args);
    REQUIRE(again.code == 0);
    REQUIRE(again.output.find("already completed") != std::string::npos);
    const auto restarted = run_dpsgd(args + " --restart");
    REQUIRE(restarted.code == 0);
    REQUIRE(restarted.output.find("resuming") == std::string::npos);
    require_same_run(ref, run_dir);
  }
}

TEST_CASE("SIGINT, SIGTERM and SIGHUP checkpoint, mark the run interrupted and exit 128+N",
          "[e2e][resume]") {
  const auto ref = reference_run("dpsgd_signal_ref");
  const auto out = fresh_dir("dpsgd_signal_run");
  const auto run_dir = out / "sigma-1";
  const std::string args = kBase + " --out " + out.string();  // default checkpoint_every_s
  std::size_t rows = 2;
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    INFO("signal " << signal);
    REQUIRE(stop_at(args, run_dir, rows, signal) == 128 + signal);
    REQUIRE(read_json(run_dir / "summary.json")["status"] == "interrupted");
    REQUIRE(read_json(out / "index.json")["runs"][0]["status"] == "interrupted");
    REQUIRE(fs::exists(run_dir / "checkpoint.pt"));
    REQUIRE_FALSE(fs::exists(run_dir / "model.pt"));  // not final
    rows += 6;
  }
  const auto r = run_dpsgd(args);
  INFO(r.output);
  REQUIRE(r.code == 0);
  require_same_run(ref, run_dir);
}

TEST_CASE("a run folder of another configuration is refused with exit 2", "[e2e][resume]") {
  const auto out = fresh_dir("dpsgd_resume_changed");
  const auto run_dir = out / "sigma-1";
  const std::string args = kBase + " --set output.checkpoint_every_s=0 --out " + out.string();
  REQUIRE(stop_at(args, run_dir, 3, SIGKILL) == 128 + SIGKILL);
  const auto changed = run_dpsgd(args + " --set train.optimizer.lr=1.0");
  INFO(changed.output);
  REQUIRE(changed.code == 2);
  REQUIRE(changed.output.find("--restart") != std::string::npos);
  REQUIRE(run_dpsgd(args + " --set train.optimizer.lr=1.0 --restart").code == 0);
  // A finished run of another configuration is not skipped as if it were this one's.
  const auto finished_other = run_dpsgd(args);
  INFO(finished_other.output);
  REQUIRE(finished_other.code == 2);
  REQUIRE(run_dpsgd(args + " --set output.checkpoint_every_s=5").code == 2);
}
