// End to end: dpsgd-run's command line. Subcommands, the bare `dpsgd-run CONFIG` form,
// --help, --version, `list`, and exit code 2 for anything the parser rejects.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/util/build_info.hpp"
#include "dpsgd/util/version.hpp"
#include "tests/helpers/run_binary.hpp"

namespace fs = std::filesystem;

// No test name may start with '-': catch_discover_tests passes the name to the test
// binary, which would read "--version ..." as its own option.

namespace {

using dpsgd::test::fresh_dir;

dpsgd::test::RunResult run(const std::string& args) { return dpsgd::test::run_dpsgd(args); }

// The two private runs of configs/smoke.yaml, cut to one short epoch.
const char* const kShortSmoke =
    "configs/smoke.yaml --set train.epochs=1 --set data.train_size=256 --device cpu";

void require_completed_runs(const fs::path& out) {
  const auto index = dpsgd::test::read_json(out / "index.json");
  REQUIRE(index["runs"].size() == 2);  // the smoke config sweeps two noise multipliers
  for (const auto& row : index["runs"]) CHECK(row["status"] == "completed");
}

}  // namespace

TEST_CASE("dpsgd-run --help lists every subcommand with a description", "[e2e][cli]") {
  const auto r = run("--help");
  INFO(r.output);
  REQUIRE(r.code == 0);
  for (const char* sub : {"run", "bench", "epsilon", "calibrate", "list"}) {
    INFO("subcommand " << sub);
    CHECK(r.output.find(std::string("  ") + sub + " ") != std::string::npos);
  }
  CHECK(r.output.find("--version") != std::string::npos);
  const auto sub_help = run("run --help");
  CHECK(sub_help.code == 0);
  CHECK(sub_help.output.find("--variant") != std::string::npos);
}

TEST_CASE("dpsgd-run --version prints the dpsgd version, the git commit and LibTorch",
          "[e2e][cli]") {
  const auto r = run("--version");
  INFO(r.output);
  REQUIRE(r.code == 0);
  CHECK(r.output.find(dpsgd::util::kVersion) != std::string::npos);
  CHECK(r.output.find(dpsgd::util::kGitCommit) != std::string::npos);
  CHECK(r.output.find("LibTorch " + dpsgd::util::libtorch_version()) != std::string::npos);
}

TEST_CASE("list prints every registry, as text and as JSON", "[e2e][cli]") {
  const auto text = run("list");
  INFO(text.output);
  REQUIRE(text.code == 0);
  for (const char* section : {"datasets", "models", "losses", "engines", "clipping", "accountants",
                              "optimizers", "lr_schedules"}) {
    CHECK(text.output.find(std::string(section) + " (") != std::string::npos);
  }
  for (const char* name : {"ghost", "flat", "rdp", "prv", "gdp", "tanh_cnn", "fashion_mnist"}) {
    CHECK(text.output.find(std::string("  ") + name + " ") != std::string::npos);
  }

  const auto r = run("list --json");
  REQUIRE(r.code == 0);
  const auto json = nlohmann::json::parse(r.output);
  REQUIRE(json.size() == 8);
  for (const auto& [registry, entries] : json.items()) {
    INFO("registry " << registry);
    REQUIRE(entries.is_array());
    CHECK_FALSE(entries.empty());
    for (const auto& e : entries) {
      CHECK(e["name"].is_string());
      CHECK_FALSE(e["description"].get<std::string>().empty());
    }
  }
  const auto has = [&](const char* registry, const char* name) {
    for (const auto& e : json[registry]) {
      if (e["name"] == name) return true;
    }
    return false;
  };
  CHECK(has("engines", "ghost"));
  CHECK(has("clipping", "flat"));
  CHECK(has("accountants", "rdp"));
  CHECK(has("models", "tanh_cnn"));
}

TEST_CASE("run subcommand trains the smoke config", "[e2e][cli]") {
  const auto out = fresh_dir("dpsgd_cli_run_subcommand");
  const auto r = run(std::string("run ") + kShortSmoke + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  require_completed_runs(out);
}

TEST_CASE("the bare form `dpsgd-run CONFIG` is `run`", "[e2e][cli]") {
  const auto out = fresh_dir("dpsgd_cli_bare_form");
  const auto r = run(std::string(kShortSmoke) + " --out " + out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  require_completed_runs(out);
}

TEST_CASE("epsilon subcommand answers in JSON", "[e2e][cli]") {
  const auto r = run("epsilon --sample-rate 0.01 --noise-multiplier 1.1 --steps 1000 --delta 1e-5");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto json = nlohmann::json::parse(r.output);
  CHECK(json["accountant"] == "rdp");
  CHECK(json["epsilon"].get<double>() > 0.0);
}

TEST_CASE("command-line errors exit with code 2", "[e2e][cli]") {
  for (const std::string args :
       {"frobnicate", "--bogus", "run", "run configs/smoke.yaml --bogus", "list --bogus",
        "epsilon --sample-rate 0.01 --steps 10 --delta 1e-5",  // no --noise-multiplier
        "calibrate --target-epsilon 1 --sample-rate 0.01 --steps 10 --delta 1e-5 "
        "--rdp-conversion tight",
        "bench", ""}) {
    const auto r = run(args);
    INFO("dpsgd-run " << args << "\n" << r.output);
    CHECK(r.code == 2);
  }
  const auto r = run("frobnicate");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("neither a subcommand") != std::string::npos);
}

TEST_CASE("the replaced key privacy.secure_noise exits with code 2", "[e2e][cli]") {
  const auto r = run("run configs/smoke.yaml --set privacy.secure_noise=true --device cpu");
  INFO(r.output);
  CHECK(r.code == 2);
  CHECK(r.output.find("privacy.secure_rng") != std::string::npos);
}
