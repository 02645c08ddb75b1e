#include "tests/helpers/run_binary.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
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

std::string python_with(const std::string& module) {
  std::ifstream in(fs::path(DPSGD_SOURCE_DIR) / ".dpsgd-python");
  std::string py;
  if (!(in >> py)) py = "python3";
  const std::string probe = py + " -c 'import " + module + "' > /dev/null 2>&1";
  return std::system(probe.c_str()) == 0 ? py : std::string();
}

int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
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
