#pragma once
// Logging facade. spdlog is confined to logging.cpp because LibTorch ships its
// own, newer {fmt} headers, which break the system spdlog wherever torch's
// include directory comes first; keeping spdlog out of every header avoids that.
#include <sstream>
#include <string>
#include <utility>

namespace dpsgd::util::log {

/// Sets up the default logger (stderr, time-stamped); idempotent.
void init(bool verbose);
void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

}  // namespace dpsgd::util::log

namespace dpsgd::util {

/// Concatenates anything streamable: cat("step ", 3, " loss ", 0.5).
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

}  // namespace dpsgd::util
