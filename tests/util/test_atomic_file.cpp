// Atomic writes: a file is replaced whole or not at all, and no temporary stays.
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/util/atomic_file.hpp"
#include "tests/helpers/files.hpp"

namespace fs = std::filesystem;
using dpsgd::test::slurp;

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
