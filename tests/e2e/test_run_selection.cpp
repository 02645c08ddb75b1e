// End to end: `dpsgd-run plan`, --only and --shard select every run of an
// experiment exactly once, and shards running at the same time into one
// folder lose no index.json row. Needs Fashion-MNIST, as test_dpsgd_run.cpp.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/helpers/background_run.hpp"
#include "tests/helpers/run_binary.hpp"

namespace fs = std::filesystem;
using dpsgd::test::BackgroundRun;
using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

// Five quick private runs.
const std::string kPlan =
    "configs/smoke.yaml --set train.epochs=1 --set data.train_size=256 "
    "--set 'privacy.noise_multiplier=[1.0, 1.5, 2.0, 2.5, 3.0]'";
const std::string kSweep = kPlan + " --device cpu";

std::vector<std::string> planned_ids(const std::string& extra) {
  const auto r = run_dpsgd("plan " + kPlan + " " + extra);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto doc = json::parse(r.output.substr(r.output.find('{')));
  std::vector<std::string> ids;
  for (const auto& run : doc["runs"]) ids.push_back(run["id"]);
  REQUIRE(doc["run_count"] == ids.size());
  return ids;
}

}  // namespace

TEST_CASE("plan lists the runs with their settings", "[e2e][selection]") {
  const auto r = run_dpsgd("plan " + kPlan);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto doc = json::parse(r.output.substr(r.output.find('{')));
  REQUIRE(doc["experiment"] == "smoke");
  REQUIRE(doc["run_count"] == 5);
  REQUIRE(doc["runs"][0]["id"] == "sigma-1");
  REQUIRE(doc["runs"][4]["id"] == "sigma-3");
  REQUIRE(doc["runs"][2]["settings"]["noise_multiplier"] == 2.0);
  REQUIRE(doc["runs"][2]["settings"]["model"] == "tanh_cnn");
}

TEST_CASE("shards I/N partition the plan for every N, and --only picks named runs",
          "[e2e][selection]") {
  const auto all = planned_ids("");
  for (int n : {1, 2, 3, 5, 7}) {
    std::multiset<std::string> seen;
    for (int i = 0; i < n; ++i) {
      for (const auto& id : planned_ids("--shard " + std::to_string(i) + "/" + std::to_string(n))) {
        seen.insert(id);
      }
    }
    INFO("N = " << n);
    REQUIRE(seen == std::multiset<std::string>(all.begin(), all.end()));
  }
  REQUIRE(planned_ids("--only sigma-2 --only sigma-1") ==
          std::vector<std::string>{"sigma-1", "sigma-2"});
  // --shard splits the --only runs (in plan order), so N shards of them stay even.
  REQUIRE(planned_ids("--only sigma-3 --only sigma-1 --shard 1/2") ==
          std::vector<std::string>{"sigma-3"});
  const auto unknown = run_dpsgd("plan " + kPlan + " --only sigma-9");
  REQUIRE(unknown.code == 2);
  REQUIRE(unknown.output.find("sigma-2.5") != std::string::npos);  // lists the valid ids
  for (const char* bad : {"2/2", "1", "-1/2", "a/b", "0/0"}) {
    INFO(bad);
    REQUIRE(run_dpsgd("plan " + kPlan + " --shard " + bad).code == 2);
  }
}

TEST_CASE("shards running at once into one folder lose no index row", "[e2e][selection]") {
  const auto out = fresh_dir("dpsgd_shards");
  const std::string args = kSweep + " --out " + out.string();
  BackgroundRun a(args + " --shard 0/2");
  BackgroundRun b(args + " --shard 1/2");
  const int ca = a.wait();
  const int cb = b.wait();
  INFO(a.output());
  INFO(b.output());
  REQUIRE(ca == 0);
  REQUIRE(cb == 0);
  const auto index = read_json(out / "index.json");
  std::map<std::string, std::string> status;
  for (const auto& row : index["runs"]) status[row["directory"]] = row["status"];
  REQUIRE(status.size() == 5);
  for (const auto& [dir, s] : status) {
    INFO(dir);
    REQUIRE(s == "completed");
    REQUIRE(fs::exists(out / dir / "model.pt"));
  }
  // --only on the finished folder trains nothing again.
  const auto again = run_dpsgd(args + " --only sigma-2");
  REQUIRE(again.code == 0);
  REQUIRE(again.output.find("already completed") != std::string::npos);
}

TEST_CASE("slurm-sweep.sh submits one array task per run (a stand-in sbatch runs them)",
          "[e2e][selection]") {
  const auto dir = fresh_dir("dpsgd_slurm");
  fs::create_directories(dir);
  const auto fake = dir / "sbatch";
  {
    // Records its arguments, then runs the job script (the last argument) once per
    // task of --array=0-K with SLURM_ARRAY_TASK_ID set, as Slurm would.
    std::ofstream out(fake);
    out << "#!/usr/bin/env bash\n"
           "echo \"$@\" > \"$(dirname \"$0\")/args.txt\"\n"
           "for a in \"$@\"; do case \"$a\" in --array=*) R=\"${a#--array=0-}\";; esac; done\n"
           "for i in $(seq 0 \"${R%%\\%*}\"); do\n"
           "  SLURM_ARRAY_TASK_ID=$i bash \"${@: -1}\" || exit 1\n"
           "done\n";
  }
  fs::permissions(fake, fs::perms::owner_all);
  const auto out = dir / "results";
  // The script takes CONFIG, then sbatch options, then dpsgd-run options after `--`.
  const std::string sets = kPlan.substr(kPlan.find("--set"));
  const std::string cmd = std::string("cd ") + DPSGD_SOURCE_DIR + " && SBATCH=" + fake.string() +
                          " DPSGD_RUN=" + DPSGD_RUN_BINARY +
                          " scripts/slurm-sweep.sh configs/smoke.yaml --partition=debug -- "
                          "--device cpu " +
                          sets + " --out " + out.string() + " > " + (dir / "log.txt").string() +
                          " 2>&1";
  const int code = std::system(cmd.c_str());
  std::ifstream log(dir / "log.txt");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  INFO(text);
  REQUIRE(code == 0);
  std::ifstream args_file(dir / "args.txt");
  const std::string args((std::istreambuf_iterator<char>(args_file)),
                         std::istreambuf_iterator<char>());
  REQUIRE(args.find("--array=0-4") != std::string::npos);
  REQUIRE(args.find("--partition=debug") != std::string::npos);
  REQUIRE(args.find("--gpus-per-task") == std::string::npos);                     // --device cpu
  REQUIRE(text.find("--shard \"$SLURM_ARRAY_TASK_ID/5\"") != std::string::npos);  // its script
  // Each task trained its own run: no task found its run already done.
  REQUIRE(text.find("already completed") == std::string::npos);
  const auto index = read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 5);
  for (const auto& row : index["runs"]) {
    INFO(row.dump());
    REQUIRE(row["status"] == "completed");
  }
}
