#include "dpsgd/train/metrics_log.hpp"

#include <chrono>

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

void MetricsLog::add_iteration(nlohmann::json row) { doc_["iterations"].push_back(std::move(row)); }
void MetricsLog::add_evaluation(nlohmann::json row) {
  doc_["evaluations"].push_back(std::move(row));
}

void MetricsLog::maybe_flush(bool force) {
  const double t = now_s();
  if (!force && t - last_flush_ < flush_every_s_) return;
  util::write_file_atomically(path_, doc_.dump());
  last_flush_ = t;
}

}  // namespace dpsgd::train
