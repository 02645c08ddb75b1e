#pragma once
// `dpsgd-run bench CONFIG.yaml`: times N steps of each per-example gradient
// engine and of non-private training on the same batches (fixed size = the
// config's batch_size, drawn once from a seeded permutation), after warm-up.
// Reports the median step time, its ratio to non-private training, the time per
// phase (forward, backward, norms, clip_sum, noise, optimizer; the device is
// synchronised at phase boundaries, so phases add up to the step) and peak memory
// (CUDA allocator on GPU, resident set on CPU).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dpsgd/config/experiment_config.hpp"

namespace dpsgd::experiment {

struct BenchRequest {
  std::filesystem::path config_path;
  std::vector<std::string> overrides;
  std::int64_t steps = 20;
  std::int64_t warmup = 3;
  std::vector<std::string> engines;  ///< empty: every exact engine but loop
  std::optional<config::DeviceChoice> device;
  int device_index = -1;  ///< --device cuda:N (-1: device 0)
  std::string variant;    ///< for a file with `variants:`, the one to bench (required there)
};

nlohmann::json run_bench(const BenchRequest& request);

/// A fixed-width table of a run_bench() result, for terminals.
std::string bench_table(const nlohmann::json& result);

}  // namespace dpsgd::experiment
