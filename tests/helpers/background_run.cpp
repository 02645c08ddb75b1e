#include "tests/helpers/background_run.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

namespace dpsgd::test {
namespace {

std::atomic<int> g_counter{0};

}  // namespace

BackgroundRun::BackgroundRun(const std::string& args, const std::string& env)
    : log_(std::filesystem::temp_directory_path() /
           ("dpsgd_bg_" + std::to_string(getpid()) + "_" + std::to_string(g_counter++) + ".txt")) {
  const std::string cmd = std::string("cd ") + DPSGD_SOURCE_DIR + " && exec env " + env + " " +
                          DPSGD_RUN_BINARY + " " + args + " > " + log_.string() + " 2>&1";
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
}

BackgroundRun::~BackgroundRun() {
  if (code_ < 0 && pid_ > 0) {
    kill(pid_, SIGKILL);
    wait();
  }
}

void BackgroundRun::send(int signal) const { kill(pid_, signal); }

int BackgroundRun::wait() {
  if (code_ >= 0) return code_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
  }
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return code_;
}

bool BackgroundRun::running() {
  if (code_ >= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == 0) return true;
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

std::string BackgroundRun::output() const {
  std::ifstream in(log_);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t metrics_rows(const std::filesystem::path& run_dir) {
  std::ifstream in(run_dir / "metrics.json");
  if (!in) return 0;
  const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("iterations")) return 0;
  return doc["iterations"].size();
}

}  // namespace dpsgd::test
