#pragma once
// How a run ended (or stands), as summary.json and index.json spell it.
//  running           claimed by a live process (a row left "running" by a killed
//                    process is resumed by the next call into the folder)
//  completed         every planned step taken and evaluated
//  failed            an error stopped it (the message is in the row)
//  diverged          the loss was non-finite for train.divergence_steps steps in a
//                    row; the last checkpoint before that is kept
//  interrupted       SIGINT/SIGTERM/SIGHUP: checkpointed, resumable
//  budget_exhausted  stopped before the step that would have spent more than
//                    privacy.max_epsilon; its model is final
#include <optional>
#include <string>

namespace dpsgd::train {

enum class RunStatus { kRunning, kCompleted, kFailed, kDiverged, kInterrupted, kBudgetExhausted };

[[nodiscard]] std::string status_name(RunStatus status);
/// nullopt for a name no version of dpsgd writes.
[[nodiscard]] std::optional<RunStatus> parse_status(const std::string& name);
/// Whether a run with this status is done: a rerun skips it (unless --restart).
[[nodiscard]] bool is_final(RunStatus status);

}  // namespace dpsgd::train
