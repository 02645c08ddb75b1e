// End to end: one run trained by two processes on loopback (c10d over Gloo,
// launched with torchrun's environment variables) against the same run in one
// process; empty local shares; a rank that dies; bad launch environments.
// Needs Fashion-MNIST, as test_dpsgd_run.cpp, and a build with Gloo.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/distributed/backends/process_group_factory.hpp"
#include "dpsgd/util/state_file.hpp"
#include "tests/helpers/background_run.hpp"
#include "tests/helpers/run_binary.hpp"
#include "tests/helpers/skip.hpp"
#include <unistd.h>

namespace fs = std::filesystem;
using dpsgd::test::BackgroundRun;
using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

std::string launch_env(int rank, int world, int port) {
  return "RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(world) +
         " LOCAL_RANK=" + std::to_string(rank) +
         " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " DPSGD_DIST_TIMEOUT_S=120";
}

struct Ranks {
  std::vector<int> codes;
  std::vector<std::string> outputs;
};

// `dpsgd-run ARGS` as `world` processes of one torchrun-style launch.
Ranks run_ranks(const std::string& args, int world) {
  const int port = dpsgd::test::free_loopback_port();
  std::vector<std::unique_ptr<BackgroundRun>> procs;
  for (int r = 0; r < world; ++r) {
    procs.push_back(std::make_unique<BackgroundRun>(args, launch_env(r, world, port)));
  }
  Ranks out;
  for (auto& p : procs) {
    out.codes.push_back(p->wait());
    out.outputs.push_back(p->output());
  }
  return out;
}

void require_close_models(const fs::path& a, const fs::path& b) {
  const auto ma = dpsgd::util::load_tensor_dict(a / "model.pt");
  const auto mb = dpsgd::util::load_tensor_dict(b / "model.pt");
  REQUIRE(ma.size() == mb.size());
  double worst = 0.0;
  for (const auto& [name, t] : ma) {
    INFO(name);
    REQUIRE(mb.count(name) == 1);
    const double diff = (t - mb.at(name)).abs().max().item<double>();
    const double scale = t.abs().max().item<double>();
    worst = std::max(worst, diff / std::max(scale, 1e-12));
    // Float tolerance: the all-reduce adds the clipped sums in another order
    // (first step: 7e-8 apart in the loss), which the steps grow (at lr 2 with
    // momentum, 16 steps made it 3e-4 of the weights' scale).
    REQUIRE(torch::allclose(t, mb.at(name), /*rtol=*/1e-3, /*atol=*/2e-4));
  }
  std::cout << "data parallel vs one process: worst relative weight difference " << worst << "\n";
}

// The 1- and 2-process runs of `args` into fresh folders; requires both to
// succeed, with the same batches, steps and epsilon and close weights.
json compare_one_and_two(const std::string& name, const std::string& args,
                         const std::string& run_id) {
  const auto one = fresh_dir(name + "_1");
  const auto r1 = run_dpsgd(args + " --out " + one.string());
  INFO(r1.output);
  REQUIRE(r1.code == 0);
  const auto two = fresh_dir(name + "_2");
  const auto r2 = run_ranks(args + " --out " + two.string(), 2);
  INFO(r2.outputs[0]);
  INFO(r2.outputs[1]);
  REQUIRE(r2.codes == std::vector<int>{0, 0});
  const auto s1 = read_json(one / run_id / "summary.json");
  const auto s2 = read_json(two / run_id / "summary.json");
  REQUIRE(s2["status"] == "completed");
  REQUIRE(s2["processes"]["world_size"] == 2);
  REQUIRE(s2["processes"]["backend"] == "gloo");
  REQUIRE(s2["steps"] == s1["steps"]);
  REQUIRE(s2["epsilon"] == s1["epsilon"]);  // the same accountant history, exactly
  const auto m1 = read_json(one / run_id / "metrics.json")["iterations"];
  const auto m2 = read_json(two / run_id / "metrics.json")["iterations"];
  REQUIRE(m1.size() == m2.size());
  for (std::size_t i = 0; i < m1.size(); ++i) {
    INFO("step row " << i);
    REQUIRE(m2[i]["batch_size"] == m1[i]["batch_size"]);  // the same Poisson draws
    // A row's epsilon is null when a slow query was skipped (a busy machine).
    if (!m1[i]["epsilon"].is_null() && !m2[i]["epsilon"].is_null()) {
      REQUIRE(m2[i]["epsilon"] == m1[i]["epsilon"]);
    }
    if (m1[i].contains("max_grad_norm")) {  // adaptive clipping's threshold, step by step
      REQUIRE(m2[i]["max_grad_norm"].get<double>() ==
              Approx(m1[i]["max_grad_norm"].get<double>()).epsilon(1e-6));
    }
  }
  // Before any rounding difference reaches the weights, the whole batch's loss agrees.
  REQUIRE(m2[0]["loss"].get<double>() == Approx(m1[0]["loss"].get<double>()).epsilon(1e-6));
  require_close_models(one / run_id, two / run_id);
  return m2;
}

#define DPSGD_REQUIRE_GLOO() \
  if (!dpsgd::distributed::gloo_available()) DPSGD_SKIP("built without Gloo (libgloo-dev)")

// lr 0.5 (the config has 2): the re-ordered sums' rounding grows less over the steps.
const std::string kSmoke =
    "configs/smoke.yaml --device cpu --set privacy.noise_multiplier=1.0 "
    "--set train.optimizer.lr=0.5";

}  // namespace

TEST_CASE("two processes over Gloo end with the one-process run's weights and epsilon",
          "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  // With flips: each example gets the coin it gets in one process.
  compare_one_and_two("dpsgd_dp_smoke", kSmoke + " --set data.augment.hflip=true", "sigma-1");
}

TEST_CASE("a process whose share of the batch is empty still takes every step",
          "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  // 16 examples, q = 1/8: most batches hold 0 to 2 examples, so one of the two
  // processes often holds none.
  const auto rows = compare_one_and_two(
      "dpsgd_dp_empty",
      kSmoke + " --set data.train_size=16 --set train.batch_size=2 --set train.epochs=3",
      "sigma-1");
  REQUIRE(rows.size() == 24);
  std::size_t small = 0;
  for (const auto& row : rows) small += row["batch_size"].get<int>() < 2 ? 1 : 0;
  REQUIRE(small > 0);  // some step left a process with an empty share
}

TEST_CASE("adaptive clipping sees every process's norms", "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  // The released count is over the whole batch (the norms are gathered from
  // every process), so the threshold follows the one-process run's.
  const auto rows = compare_one_and_two(
      "dpsgd_dp_adaptive",
      kSmoke +
          " --set 'privacy.clipping={mode: adaptive, max_grad_norm: 0.1, count_noise_std: 10}'",
      "sigma-1");
  REQUIRE(rows.back()["max_grad_norm"].get<double>() != 0.1);  // the threshold moved
}

TEST_CASE("the non-private baseline trains data parallel too", "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  compare_one_and_two("dpsgd_dp_nonprivate",
                      "configs/smoke.yaml --device cpu --set privacy.enabled=false "
                      "--set train.optimizer.lr=0.05",
                      "nonprivate");
}

TEST_CASE("a signal to one process stops all at one step, and the run resumes with 2 or 1",
          "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  const std::string base = kSmoke + " --set train.epochs=3 --set output.checkpoint_every_s=0";
  const auto ref = fresh_dir("dpsgd_dp_resume_ref");
  REQUIRE(run_ranks(base + " --out " + ref.string(), 2).codes == std::vector<int>{0, 0});
  const auto out = fresh_dir("dpsgd_dp_resume");
  const std::string args = base + " --out " + out.string();
  const int port = dpsgd::test::free_loopback_port();
  BackgroundRun leader(args, launch_env(0, 2, port));
  BackgroundRun follower(args, launch_env(1, 2, port));
  while (leader.running() && dpsgd::test::metrics_rows(out / "sigma-1") < 4) usleep(1000);
  follower.send(SIGTERM);
  INFO(leader.output());
  REQUIRE(follower.wait() == 128 + SIGTERM);
  REQUIRE(leader.wait() == 128 + SIGTERM);
  REQUIRE(read_json(out / "sigma-1" / "summary.json")["status"] == "interrupted");
  const auto one = fresh_dir("dpsgd_dp_resume_one");
  fs::copy(out, one, fs::copy_options::recursive);
  // Two processes again: the same sums in the same order, so bitwise the uninterrupted run.
  REQUIRE(run_ranks(args, 2).codes == std::vector<int>{0, 0});
  const auto ma = dpsgd::util::load_tensor_dict(ref / "sigma-1" / "model.pt");
  const auto mb = dpsgd::util::load_tensor_dict(out / "sigma-1" / "model.pt");
  for (const auto& [name, t] : ma) {
    INFO(name);
    REQUIRE(torch::equal(t, mb.at(name)));
  }
  const auto eps = read_json(ref / "sigma-1" / "summary.json")["epsilon"];
  REQUIRE(read_json(out / "sigma-1" / "summary.json")["epsilon"] == eps);
  // One process resumes a two-process checkpoint (the sums' order changes, nothing else).
  const auto alone = run_dpsgd(base + " --out " + one.string());
  INFO(alone.output);
  REQUIRE(alone.code == 0);
  REQUIRE(read_json(one / "sigma-1" / "summary.json")["epsilon"] == eps);
  require_close_models(ref / "sigma-1", one / "sigma-1");
}

TEST_CASE("a process that dies stops the others and the run is marked failed",
          "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  const auto out = fresh_dir("dpsgd_dp_killed");
  const std::string args =
      kSmoke + " --set train.epochs=20 --set output.checkpoint_every_s=0 --out " + out.string();
  const int port = dpsgd::test::free_loopback_port();
  BackgroundRun leader(args, launch_env(0, 2, port));
  BackgroundRun follower(args, launch_env(1, 2, port));
  while (leader.running() && dpsgd::test::metrics_rows(out / "sigma-1") < 3) usleep(1000);
  follower.send(SIGKILL);
  REQUIRE(follower.wait() == 128 + SIGKILL);
  const int code = leader.wait();  // returns: the dead peer fails its collectives
  INFO(leader.output());
  REQUIRE(code == 1);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"][0]["status"] == "failed");
  REQUIRE(!index["runs"][0]["error"].get<std::string>().empty());
}

TEST_CASE("bad launch environments and unsplittable settings are refused with exit 2",
          "[e2e][distributed]") {
  const auto out = fresh_dir("dpsgd_dp_bad");
  const std::string args = kSmoke + " --out " + out.string();
  BackgroundRun no_addr(args, "RANK=1 WORLD_SIZE=2 MASTER_PORT=29500");
  REQUIRE(no_addr.wait() == 2);
  REQUIRE(no_addr.output().find("MASTER_ADDR") != std::string::npos);
  BackgroundRun bad_rank(args, "RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500");
  REQUIRE(bad_rank.wait() == 2);
  REQUIRE(bad_rank.output().find("RANK='2'") != std::string::npos);
  BackgroundRun micro(args + " --set privacy.microbatches=4 --set privacy.engine=auto",
                      "RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500");
  REQUIRE(micro.wait() == 2);
  REQUIRE(micro.output().find("microbatches") != std::string::npos);
}

TEST_CASE("torchrun launches it: dpsgd-run joins the agent's store", "[e2e][distributed]") {
  DPSGD_REQUIRE_GLOO();
  const auto py = dpsgd::test::python_with("torch.distributed.run");
  if (py.empty()) DPSGD_SKIP("no python with torch.distributed.run (torchrun) found");
  const auto out = fresh_dir("dpsgd_dp_torchrun");
  const auto log = out.string() + ".log";
  const std::string cmd = std::string("cd ") + DPSGD_SOURCE_DIR + " && " + py +
                          " -m torch.distributed.run --nproc-per-node 2 --master-port " +
                          std::to_string(dpsgd::test::free_loopback_port()) + " --no-python " +
                          DPSGD_RUN_BINARY + " run " + kSmoke + " --out " + out.string() + " > " +
                          log + " 2>&1";
  const int code = std::system(cmd.c_str());
  std::ifstream in(log);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(output);
  REQUIRE(code == 0);
  const auto summary = read_json(out / "sigma-1" / "summary.json");
  REQUIRE(summary["status"] == "completed");
  REQUIRE(summary["processes"]["world_size"] == 2);
}
