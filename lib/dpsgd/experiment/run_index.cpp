#include "dpsgd/experiment/run_index.hpp"

#include <fstream>
#include <utility>

#include "dpsgd/util/atomic_file.hpp"
#include "dpsgd/util/file_lock.hpp"

namespace dpsgd::experiment {
namespace {

using nlohmann::json;

std::string row_directory(const json& row) {
  return row.value("directory", row.value("run_id", std::string()));
}

}  // namespace

std::string dump_json(const json& document, int indent) {
  return document.dump(indent, ' ', false, json::error_handler_t::replace);
}

RunIndex::RunIndex(std::filesystem::path out_dir, json header)
    : out_dir_(std::move(out_dir)), header_(std::move(header)) {}

template <typename Change>
void RunIndex::change(Change&& apply) {
  const auto lock = util::FileLock::acquire(out_dir_ / ".index.lock");
  std::ifstream in(out_dir_ / "index.json");
  json index = in ? json::parse(in, nullptr, /*allow_exceptions=*/false) : json();
  in.close();
  if (!index.is_object()) index = json::object();
  if (!index.contains("runs") || !index["runs"].is_array()) index["runs"] = json::array();
  for (const auto& [key, value] : header_.items()) index[key] = value;
  apply(index["runs"]);
  util::write_file_atomically(out_dir_ / "index.json", dump_json(index));
}

void RunIndex::add_missing(const std::vector<json>& rows) {
  change([&](json& runs) {
    for (const auto& row : rows) {
      bool present = false;
      for (const auto& old : runs) present = present || row_directory(old) == row_directory(row);
      if (!present) runs.push_back(row);
    }
  });
}

void RunIndex::update(const std::string& directory, const json& fields) {
  change([&](json& runs) {
    for (auto& row : runs) {
      if (row_directory(row) == directory) {
        row.update(fields);
        return;
      }
    }
    json row = fields;
    row["directory"] = directory;
    runs.push_back(row);
  });
}

}  // namespace dpsgd::experiment
