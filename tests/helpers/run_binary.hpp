#pragma once
// Running the dpsgd-run binary from end-to-end tests.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace dpsgd::test {

struct RunResult {
  int code;            ///< the exit code
  std::string output;  ///< stdout and stderr together
};

/// Runs `dpsgd-run ARGS` from the source directory (so configs/... resolve).
RunResult run_dpsgd(const std::string& args);

/// The JSON document in `p` (a test failure when it cannot be read).
nlohmann::json read_json(const std::filesystem::path& p);

/// The python (from .dpsgd-python, else python3) that can import `module`, or ""
/// when none can.
std::string python_with(const std::string& module);

/// A TCP port free on loopback now (the kernel's choice for port 0); another
/// process may still take it before the caller binds it.
int free_loopback_port();

/// An empty path under the temporary directory named `name` (removed if present).
std::filesystem::path fresh_dir(const std::string& name);

}  // namespace dpsgd::test
