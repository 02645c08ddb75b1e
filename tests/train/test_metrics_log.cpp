// metrics.json stays valid JSON after every flush.
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/train/metrics_log.hpp"
#include "tests/helpers/files.hpp"

namespace fs = std::filesystem;
using dpsgd::test::slurp;

TEST_CASE("metrics log is valid JSON after every flush", "[train]") {
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
