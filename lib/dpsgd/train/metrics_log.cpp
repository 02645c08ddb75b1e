#include "dpsgd/train/metrics_log.hpp"

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>

#include "dpsgd/util/atomic_file.hpp"

namespace dpsgd::train {
namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

MetricsLog::MetricsLog(std::filesystem::path path, double flush_every_s)
    : path_(std::move(path)), flush_every_s_(flush_every_s) {
  doc_ = {{"schema_version", kMetricsSchemaVersion},
          {"iterations", nlohmann::json::array()},
          {"evaluations", nlohmann::json::array()}};
}

void MetricsLog::add_iteration(nlohmann::json row) {
  if (!path_.empty()) doc_["iterations"].push_back(std::move(row));
}
void MetricsLog::add_evaluation(nlohmann::json row) {
  if (!path_.empty()) doc_["evaluations"].push_back(std::move(row));
}

void MetricsLog::restore(std::size_t iterations, std::size_t evaluations) {
  if (path_.empty()) return;
  std::ifstream in(path_);
  const auto doc =
      in ? nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false) : nlohmann::json();
  const auto rows = [&](const char* key, std::size_t want) {
    if (!doc.is_object() || !doc.contains(key) || !doc[key].is_array() || doc[key].size() < want) {
      throw std::runtime_error(path_.string() + ": holds fewer '" + key +
                               "' rows than the checkpoint (" + std::to_string(want) + ")");
    }
    auto out = nlohmann::json::array();
    for (std::size_t i = 0; i < want; ++i) out.push_back(doc[key][i]);
    return out;
  };
  doc_["iterations"] = rows("iterations", iterations);
  doc_["evaluations"] = rows("evaluations", evaluations);
}

void MetricsLog::maybe_flush(bool force) {
  const double t = now_s();
  if (path_.empty() || (!force && t - last_flush_ < flush_every_s_)) return;
  util::write_file_atomically(path_, doc_.dump());
  last_flush_ = t;
}

}  // namespace dpsgd::train
