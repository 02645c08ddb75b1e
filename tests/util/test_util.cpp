#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/train/metrics_log.hpp"
#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/registry.hpp"

namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

TEST_CASE("atomic writes replace the whole file and leave no temporary", "[util]") {
  const auto dir = fs::temp_directory_path() / "dpsgd_atomic_test";
  fs::create_directories(dir);
  const auto file = dir / "a.json";
  dpsgd::util::write_file_atomically(file, "first");
  REQUIRE(slurp(file) == "first");
  dpsgd::util::write_file_atomically(file, "second, longer content");
  REQUIRE(slurp(file) == "second, longer content");
  for (const auto& e : fs::directory_iterator(dir)) {
    REQUIRE(e.path().filename().string().find(".tmp") == std::string::npos);
  }
  REQUIRE_THROWS(dpsgd::util::write_file_atomically("/proc/dpsgd/cannot/write", "x"));
}

TEST_CASE("metrics log is valid JSON after every flush", "[util]") {
  const auto file = fs::temp_directory_path() / "dpsgd_metrics_test.json";
  dpsgd::train::MetricsLog log(file, /*flush_every_s=*/0.0);
  log.maybe_flush(true);
  REQUIRE(nlohmann::json::parse(slurp(file))["iterations"].empty());
  for (int i = 1; i <= 3; ++i) {
    log.add_iteration({{"step", i}});
    log.maybe_flush();
    const auto doc = nlohmann::json::parse(slurp(file));
    REQUIRE(doc["schema_version"] == dpsgd::train::kMetricsSchemaVersion);
    REQUIRE(doc["iterations"].size() == static_cast<std::size_t>(i));
  }
}

TEST_CASE("registry: unknown names list the valid ones, duplicates are refused", "[util]") {
  dpsgd::util::Registry<int> r("widget");
  r.add("alpha", "first", 1);
  r.add("beta", "second", 2);
  REQUIRE(r.get("beta") == 2);
  REQUIRE_THROWS_WITH(r.get("gamma"),
                      Catch::Contains("unknown widget 'gamma'") && Catch::Contains("alpha, beta"));
  REQUIRE_THROWS_AS(r.add("alpha", "again", 3), std::logic_error);
}
