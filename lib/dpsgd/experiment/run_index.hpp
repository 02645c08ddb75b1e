#pragma once
// OUT/index.json: one row per run of the experiment folder, with its status.
// Several processes may write one folder (two sigmas, two variants, a resumed
// sweep beside a running one): every change is a read-modify-write of the file
// under an exclusive lock on OUT/.index.lock (util::FileLock), written
// atomically, and touches only the rows it names, so no row is lost and no
// process overwrites another's status with a stale copy.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dpsgd::experiment {

class RunIndex {
 public:
  /// `header`: the document's fields other than "runs" (experiment, config, ...).
  RunIndex(std::filesystem::path out_dir, nlohmann::json header);

  /// Adds each row whose "directory" has no row yet; existing rows are kept as
  /// they are (their runs may be finished, or running in another process).
  void add_missing(const std::vector<nlohmann::json>& rows);
  /// Merges `fields` into the row of `directory` (adding the row if absent).
  void update(const std::string& directory, const nlohmann::json& fields);

 private:
  template <typename Change>
  void change(Change&& apply);

  std::filesystem::path out_dir_;
  nlohmann::json header_;
};

/// JSON text that is valid UTF-8 whatever bytes its strings hold (paths need not
/// be UTF-8): invalid bytes become U+FFFD instead of an exception that would
/// lose the file.
std::string dump_json(const nlohmann::json& document, int indent = 2);

}  // namespace dpsgd::experiment
