// End to end: `dpsgd-run audit` on the smoke config. The sigma-0 control shows
// the audit's power (a clear lower bound), the private run's lower bound stays
// at or below its reported epsilon, audit.json holds every field the report
// promises, a finished audit run is scored again rather than retrained, and
// what cannot be audited is refused before training. Needs Fashion-MNIST, as
// test_dpsgd_run.cpp.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/helpers/run_binary.hpp"

namespace fs = std::filesystem;
using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

const json* find_audit(const json& doc, const std::string& kind, const std::string& role) {
  for (const auto& a : doc["audits"]) {
    if (a["kind"] == kind && a["role"] == role) return &a;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("audit: the sigma-0 control is caught, the private run is consistent", "[e2e][audit]") {
  const auto out = fresh_dir("dpsgd_audit_gradient");
  const std::string args =
      "audit configs/smoke.yaml --only sigma-1 --canaries 200 --kind gradient "
      "--device cpu --out " +
      out.string();
  const auto r = run_dpsgd(args);
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto doc = read_json(out / "audit.json");
  REQUIRE(doc["canaries"] == 200);
  REQUIRE(doc["confidence"] == 0.95);
  const auto* audited = find_audit(doc, "gradient", "audited");
  const auto* control = find_audit(doc, "gradient", "control");
  REQUIRE(audited != nullptr);
  REQUIRE(control != nullptr);
  for (const auto* a : {audited, control}) {
    for (const char* key : {"m", "r", "v", "confidence", "epsilon_lower_bound",
                            "clopper_pearson_lower_bound", "verdict", "reported_epsilon"}) {
      INFO(key);
      REQUIRE(a->contains(key));
    }
    REQUIRE((*a)["m"] == 200);
    REQUIRE((*a)["v"].get<int>() <= (*a)["r"].get<int>());
  }
  // The control: 16 steps at q = 1/8 with no noise. It reaches 1.89 (40 of 40
  // IN guesses right; the 12% of included canaries never sampled in 16 steps
  // cap it), well above 1.2, and far above the private run's 0.
  REQUIRE((*control)["reported_epsilon"] == "infinite");
  REQUIRE((*control)["epsilon_lower_bound"].get<double>() > 1.2);
  REQUIRE((*control)["reference_status"] == "completed");
  const double reported = (*audited)["reported_epsilon"].get<double>();
  REQUIRE(reported == Approx(4.6965).margin(1e-3));  // the smoke run's own epsilon
  REQUIRE((*audited)["epsilon_lower_bound"].get<double>() <= reported);
  REQUIRE((*audited)["violation"] == false);
  REQUIRE_THAT((*audited)["verdict"].get<std::string>(), Catch::StartsWith("consistent"));
  // A second audit scores the finished runs again instead of retraining them.
  const auto summary = out / "audit" / "gradient" / "audited" / "sigma-1" / "summary.json";
  const auto finished = read_json(summary)["finished_at"];
  const auto again = run_dpsgd(args);
  REQUIRE(again.code == 0);
  REQUIRE(read_json(summary)["finished_at"] == finished);
  const auto redone = read_json(out / "audit.json")["audits"];
  REQUIRE(redone.size() == doc["audits"].size());
  for (std::size_t i = 0; i < redone.size(); ++i) {
    REQUIRE(redone[i]["epsilon_lower_bound"] == doc["audits"][i]["epsilon_lower_bound"]);
    REQUIRE(redone[i]["v"] == doc["audits"][i]["v"]);
  }
  REQUIRE((*audited)["canary_injections"].get<int>() > 0);
  // Other canaries in the same folder are refused, not mixed up.
  const auto other = run_dpsgd(
      "audit configs/smoke.yaml --only sigma-1 --canaries 100 --kind "
      "gradient --device cpu --out " +
      out.string());
  REQUIRE(other.code == 2);
  REQUIRE_THAT(other.output, Catch::Contains("other canaries"));
}

TEST_CASE("audit: input canaries give a consistent black-box bound", "[e2e][audit]") {
  const auto out = fresh_dir("dpsgd_audit_input");
  const auto r = run_dpsgd(
      "audit configs/smoke.yaml --only sigma-1 --canaries 200 --kind input "
      "--no-control --device cpu --out " +
      out.string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto doc = read_json(out / "audit.json");
  REQUIRE(doc["audits"].size() == 1);
  const auto& a = doc["audits"][0];
  REQUIRE(a["kind"] == "input");
  REQUIRE(a["included"].get<int>() > 60);  // about half of 200
  REQUIRE(a["included"].get<int>() < 140);
  REQUIRE(a["epsilon_lower_bound"].get<double>() <= a["reported_epsilon"].get<double>());
  // The training set lost the 200 canaries and regained the included ones.
  const auto summary = read_json(out / "audit" / "input" / "audited" / "sigma-1" / "summary.json");
  REQUIRE(summary["train_examples"] == 1024 - 200 + a["included"].get<int>());
}

TEST_CASE("audit: audit.json keeps the entries of an earlier audit of another run",
          "[e2e][audit]") {
  const auto out = fresh_dir("dpsgd_audit_merge");
  const std::string common =
      "audit configs/smoke.yaml --canaries 50 --kind gradient --no-control "
      "--set train.epochs=1 --device cpu --out " +
      out.string();
  REQUIRE(run_dpsgd(common + " --only sigma-1").code == 0);
  REQUIRE(run_dpsgd(common + " --only sigma-2").code == 0);
  const auto doc = read_json(out / "audit.json");
  REQUIRE(doc["audits"].size() == 2);
  REQUIRE(doc["audits"][0]["run"] == "sigma-1");
  REQUIRE(doc["audits"][1]["run"] == "sigma-2");
  for (const auto& a : doc["audits"]) {
    REQUIRE(a["canaries"] == 50);
    REQUIRE(a["canary_injections"].get<int>() >= 0);
  }
  // Rerunning the first replaces its entry instead of adding one.
  REQUIRE(run_dpsgd(common + " --only sigma-1").code == 0);
  REQUIRE(read_json(out / "audit.json")["audits"].size() == 2);
}

TEST_CASE("audit: what cannot be audited is refused before training", "[e2e][audit]") {
  const auto out = fresh_dir("dpsgd_audit_refused");
  const auto too_many = run_dpsgd(
      "audit configs/smoke.yaml --canaries 5000 --kind input "
      "--device cpu --out " +
      out.string());
  REQUIRE(too_many.code == 2);
  REQUIRE_THAT(too_many.output, Catch::Contains("--canaries 5000"));
  const auto micro = run_dpsgd(
      "audit configs/smoke.yaml --kind gradient --device cpu "
      "--set privacy.microbatches=4 --set privacy.engine=auto --out " +
      out.string());
  INFO(micro.output);
  REQUIRE(micro.code == 2);
  REQUIRE_THAT(micro.output, Catch::Contains("gradient canaries cannot be injected") &&
                                 Catch::Contains("microbatches"));
  const auto plain = run_dpsgd(
      "audit configs/smoke.yaml --device cpu --set privacy.enabled=false "
      "--out " +
      out.string());
  REQUIRE(plain.code == 2);
  REQUIRE_THAT(plain.output, Catch::Contains("only private"));
  REQUIRE_FALSE(fs::exists(out / "audit"));
}
