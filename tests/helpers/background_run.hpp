#pragma once
// The dpsgd-run binary as a background process, for tests that signal or kill
// it mid-run (resume, interruption, concurrent writers).
#include <filesystem>
#include <string>

#include <sys/types.h>

namespace dpsgd::test {

class BackgroundRun {
 public:
  /// Starts `dpsgd-run ARGS` from the source directory, output to a log file,
  /// with the environment assignments `env` ("NAME=value ...") added.
  explicit BackgroundRun(const std::string& args, const std::string& env = "");
  BackgroundRun(const BackgroundRun&) = delete;
  BackgroundRun& operator=(const BackgroundRun&) = delete;
  ~BackgroundRun();

  void send(int signal) const;
  /// Waits for the process; its exit code, or 128 + N when signal N killed it.
  int wait();
  [[nodiscard]] std::string output() const;
  [[nodiscard]] bool running();

 private:
  pid_t pid_ = -1;
  int code_ = -1;
  std::filesystem::path log_;
};

/// The number of step rows in DIR/metrics.json as last written (0 when absent or
/// unreadable, e.g. while it is replaced).
std::size_t metrics_rows(const std::filesystem::path& run_dir);

}  // namespace dpsgd::test
