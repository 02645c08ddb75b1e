#include "dpsgd/train/run_status.hpp"

#include <array>
#include <utility>

namespace dpsgd::train {
namespace {

constexpr std::array<std::pair<RunStatus, const char*>, 6> kNames{{
    {RunStatus::kRunning, "running"},
    {RunStatus::kCompleted, "completed"},
    {RunStatus::kFailed, "failed"},
    {RunStatus::kDiverged, "diverged"},
    {RunStatus::kInterrupted, "interrupted"},
    {RunStatus::kBudgetExhausted, "budget_exhausted"},
}};

}  // namespace

std::string status_name(RunStatus status) {
  for (const auto& [s, name] : kNames) {
    if (s == status) return name;
  }
  return "unknown";
}

std::optional<RunStatus> parse_status(const std::string& name) {
  for (const auto& [s, n] : kNames) {
    if (name == n) return s;
  }
  return std::nullopt;
}

bool is_final(RunStatus status) {
  return status == RunStatus::kCompleted || status == RunStatus::kDiverged ||
         status == RunStatus::kBudgetExhausted;
}

}  // namespace dpsgd::train
