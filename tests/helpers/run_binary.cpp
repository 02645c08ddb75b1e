#include "tests/helpers/run_binary.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace dpsgd::test {

RunResult run_dpsgd(const std::string& args) {
  // One file per process: CTest runs the e2e cases in parallel (-j).
  const fs::path log =
      fs::temp_directory_path() / ("dpsgd_e2e_output_" + std::to_string(getpid()) + ".txt");
  const std::string cmd = std::string("cd ") + DPSGD_SOURCE_DIR + " && " + DPSGD_RUN_BINARY + " " +
                          args + " > " + log.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WEXITSTATUS(status), out};
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// Not fs::remove_all: the torch wheel's libtorch exports its own copy, which
// crashes with GCC 12's libstdc++ (pytorch/pytorch#133437).
fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / name;
  const std::string cmd = "rm -rf '" + dir.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return dir;
}

}  // namespace dpsgd::test
