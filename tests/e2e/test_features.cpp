// End to end: private heads on fixed features (issue 14). Each extractor runs
// through dpsgd-run on a slice of Fashion-MNIST: the feature cache is reused by a
// second run and invalidated by a change of extractor settings or data; dp_ls and
// dp_fc runs report the epsilon of the mechanisms they ran, their model.pt reloads
// to the same test metrics, and the summary states what was public.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/helpers/run_binary.hpp"
#include "tests/helpers/skip.hpp"

namespace fs = std::filesystem;
using Catch::Contains;
using dpsgd::test::fresh_dir;
using dpsgd::test::read_json;
using dpsgd::test::run_dpsgd;
using nlohmann::json;

namespace {

const fs::path kFashion = "/usr/share/datasets/fashion-mnist";

// A ScatterNet DP-SGD config on 256 training and 128 test images.
std::string scat_args(const fs::path& out, const fs::path& cache) {
  return "configs/fmnist_scatternet_dp_sgd.yaml --device cpu --out " + out.string() +
         " --set data.train_size=256 --set data.test_size=128 --set train.epochs=2"
         " --set train.batch_size=64 --set train.physical_batch_size=64"
         " --set features.cache_dir=" +
         cache.string();
}

json summary_of(const fs::path& run_dir) { return read_json(run_dir / "summary.json"); }

}  // namespace

TEST_CASE("features: the cache is reused, and changes with settings and data",
          "[e2e][features][cache]") {
  if (!fs::exists(kFashion)) DPSGD_SKIP("Fashion-MNIST not installed");
  const auto dir = fresh_dir("dpsgd_features_cache");
  const auto cache = dir / "cache";
  auto first = run_dpsgd(scat_args(dir / "a", cache));
  INFO(first.output);
  REQUIRE(first.code == 0);
  const auto a = summary_of(dir / "a" / "eps-3");
  CHECK(a["status"] == "completed");
  CHECK(a["features"]["from_cache"] == false);
  CHECK(a["features"]["feature_shape"] == json({81, 7, 7}));
  CHECK_THAT(a["data_splits"]["epsilon_covers"].get<std::string>(), Contains("private"));
  const auto again = run_dpsgd(scat_args(dir / "b", cache));
  REQUIRE(again.code == 0);
  const auto b = summary_of(dir / "b" / "eps-3");
  CHECK(b["features"]["from_cache"] == true);
  CHECK(b["features"]["cache_file"] == a["features"]["cache_file"]);
  CHECK(b["final_test"]["accuracy"] == a["final_test"]["accuracy"]);  // same features
  const auto other_l = run_dpsgd(scat_args(dir / "c", cache) +
                                 " --set features.scatternet.L=4 --set features.groups=5");
  REQUIRE(other_l.code == 0);
  const auto c = summary_of(dir / "c" / "eps-3");
  CHECK(c["features"]["from_cache"] == false);
  CHECK(c["features"]["cache_file"] != a["features"]["cache_file"]);
  CHECK(c["features"]["feature_shape"] == json({25, 7, 7}));  // 1 + J L + L^2 J (J-1) / 2
  const auto other_data = run_dpsgd(scat_args(dir / "d", cache) + " --set data.train_size=255");
  REQUIRE(other_data.code == 0);
  const auto d = summary_of(dir / "d" / "eps-3");
  CHECK(d["features"]["from_cache"] == false);
  CHECK(d["features"]["cache_file"] != a["features"]["cache_file"]);
}

TEST_CASE("features: dp_ls and dp_fc runs account what they release and reload",
          "[e2e][features][heads]") {
  if (!fs::exists(kFashion)) DPSGD_SKIP("Fashion-MNIST not installed");
  const auto dir = fresh_dir("dpsgd_features_heads");
  for (const std::string method : {"dp_ls", "dp_fc"}) {
    const auto out = dir / method;
    const auto r = run_dpsgd("configs/fmnist_scatternet_" + method + ".yaml --device cpu --out " +
                             out.string() +
                             " --set data.train_size=512 --set data.test_size=256"
                             " --set features.cache_dir=" +
                             (dir / "cache").string() + " --set privacy.target_epsilon=[1,3]");
    INFO(method << "\n" << r.output);
    REQUIRE(r.code == 0);
    double previous_accuracy = -1;
    for (const std::string id : {"eps-1", "eps-3"}) {
      const auto s = summary_of(out / id);
      CHECK(s["status"] == "completed");
      const double target = id == "eps-1" ? 1.0 : 3.0;
      CHECK(s["epsilon"].get<double>() <= target);
      CHECK(s["epsilon"].get<double>() >= 0.99 * target);  // calibrated, not just bounded
      const auto& releases = s["privacy"]["releases"];
      REQUIRE(releases.size() == 2);
      CHECK(releases[0]["sensitivity"] == 1.0);  // clip_norm 1: C^2 for the Gram matrix
      CHECK(s["privacy"]["neighbouring_relation"] == "add/remove one example");
      CHECK(s["data_splits"]["public"][0].get<std::string>().find("Morlet") != std::string::npos);
      // model.pt reloads (features extracted again, from the cache) to the same metrics.
      const auto e = run_dpsgd("evaluate " + (out / id).string() + " --device cpu");
      INFO(e.output);
      REQUIRE(e.code == 0);
      const auto evaluated = json::parse(e.output.substr(e.output.find('{')));
      CHECK(evaluated["accuracy"] == s["final_test"]["accuracy"]);
      previous_accuracy = s["final_test"]["accuracy"].get<double>();
    }
    CHECK(previous_accuracy > 0.5);  // 10 classes: well above chance even on 512 examples
  }
}

TEST_CASE("features: a model dpsgd trained (public) gives features to a private run",
          "[e2e][features][model]") {
  if (!fs::exists(kFashion)) DPSGD_SKIP("Fashion-MNIST not installed");
  const auto dir = fresh_dir("dpsgd_features_model");
  const auto pre =
      run_dpsgd("configs/smoke.yaml --device cpu --out " + (dir / "public").string() +
                " --set privacy.enabled=false --set train.epochs=2 --set train.optimizer.lr=0.05");
  INFO(pre.output);
  REQUIRE(pre.code == 0);
  const auto run = dir / "public" / "nonprivate";
  REQUIRE(fs::exists(run / "model.pt"));
  const auto r = run_dpsgd(
      "configs/fmnist_scatternet_dp_ls.yaml --device cpu --out " + (dir / "private").string() +
      " --set data.train_size=512 --set data.test_size=256 --set features.cache_dir=" +
      (dir / "cache").string() + " --set features.scatternet=null --set features.groups=null" +
      " --set features.normalisation=none --set features.extractor=model" +
      " --set 'features.model={run: " + run.string() + ", declare_public: true}'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto s = summary_of(dir / "private" / "eps-3");
  CHECK(s["features"]["feature_shape"] == json({32}));  // tanh_cnn's penultimate layer
  const auto provenance = s["data_splits"]["public"][0].get<std::string>();
  CHECK_THAT(provenance, Contains(run.string()) && Contains("tanh_cnn"));
  CHECK(s["final_test"]["accuracy"].get<double>() > 0.3);
  SECTION("a run on the same data set is refused unless declared public") {
    const auto undeclared = run_dpsgd(
        "configs/fmnist_scatternet_dp_ls.yaml --device cpu --out " + (dir / "undeclared").string() +
        " --set features.scatternet=null --set features.groups=null"
        " --set features.normalisation=none --set features.extractor=model"
        " --set 'features.model={run: " +
        run.string() + "}'");
    CHECK(undeclared.code == 2);
    CHECK_THAT(undeclared.output, Contains("declare_public"));
  }
  SECTION("a run folder without model.pt is refused with exit 2") {
    fs::remove(run / "model.pt");
    const auto bad = run_dpsgd("configs/fmnist_scatternet_dp_ls.yaml --device cpu --out " +
                               (dir / "bad").string() +
                               " --set data.train_size=512 --set features.scatternet=null"
                               " --set features.groups=null --set features.normalisation=none"
                               " --set features.extractor=model --set 'features.model={run: " +
                               run.string() + ", declare_public: true}'");
    CHECK(bad.code == 2);
    CHECK_THAT(bad.output, Contains("model.pt"));
  }
}

TEST_CASE("features: a TorchScript backbone's submodule gives the features",
          "[e2e][features][torchscript]") {
  if (!fs::exists(kFashion)) DPSGD_SKIP("Fashion-MNIST not installed");
  const auto dir = fresh_dir("dpsgd_features_torchscript");
  const auto r = run_dpsgd(
      "configs/fmnist_scatternet_dp_ls.yaml --device cpu --out " + dir.string() +
      " --set data.train_size=512 --set data.test_size=256 --set features.cache_dir=" +
      (dir / "cache").string() +
      " --set features.scatternet=null --set features.groups=null --set features.normalisation=none"
      " --set features.extractor=torchscript"
      " --set 'features.torchscript={file: tests/data/tiny_backbone.pt, output: features,"
      " repeat_channels: 3}'");
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto s = summary_of(dir / "eps-3");
  CHECK(s["status"] == "completed");
  CHECK(s["features"]["extractor"]["extractor"] == "torchscript");
  CHECK(s["features"]["extractor"].contains("file_hash"));
}
