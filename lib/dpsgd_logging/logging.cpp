// Compiled without LibTorch's include path (see lib/CMakeLists.txt), so the
// system spdlog sees the system {fmt} it was built against.
#include "dpsgd/util/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace dpsgd::util::log {
namespace {
std::shared_ptr<spdlog::logger> logger() {
  auto existing = spdlog::get("dpsgd");
  if (existing) return existing;
  auto created = spdlog::stderr_color_mt("dpsgd");
  created->set_pattern("[%H:%M:%S] %^%l%$ %v");
  return created;
}
}  // namespace

void init(bool verbose) {
  logger()->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}
void debug(const std::string& message) { logger()->debug(message); }
void info(const std::string& message) { logger()->info(message); }
void warn(const std::string& message) { logger()->warn(message); }
void error(const std::string& message) { logger()->error(message); }

}  // namespace dpsgd::util::log
