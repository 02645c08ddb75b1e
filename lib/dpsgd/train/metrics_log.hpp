#pragma once
// metrics.json of one run: per-step rows and per-epoch evaluations. The file is
// rewritten atomically (util::write_file_atomically) every few seconds and at
// every epoch end, so a killed run leaves valid JSON with its last good rows.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace dpsgd::train {

inline constexpr int kMetricsSchemaVersion = 1;

class MetricsLog {
 public:
  /// An empty `path`: a log that writes nowhere and keeps no rows (the
  /// non-leading processes of a data-parallel run).
  MetricsLog(std::filesystem::path path, double flush_every_s);

  void add_iteration(nlohmann::json row);
  void add_evaluation(nlohmann::json row);
  /// Resuming: reads the file this log writes and keeps its first `iterations`
  /// step rows and `evaluations` evaluation rows (those the checkpoint had seen;
  /// rows written after it are dropped, the resumed run writes them again).
  /// Throws std::runtime_error when the file holds fewer rows.
  void restore(std::size_t iterations, std::size_t evaluations);
  /// Writes now if `flush_every_s` passed since the last write (or `force`).
  void maybe_flush(bool force = false);

  [[nodiscard]] const nlohmann::json& document() const { return doc_; }

 private:
  std::filesystem::path path_;
  double flush_every_s_;
  double last_flush_ = -1e300;
  nlohmann::json doc_;
};

}  // namespace dpsgd::train
