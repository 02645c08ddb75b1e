#include "dpsgd/features/feature_pipeline.hpp"

#include <map>

#include "dpsgd/features/extractor_registry.hpp"
#include "dpsgd/features/feature_cache.hpp"
#include "dpsgd/features/group_normalisation.hpp"
#include "dpsgd/util/file_lock.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/stopwatch.hpp"

namespace dpsgd::features {
namespace {

// The privacy argument needs each example's features to be a function of that
// example alone. An extractor can break it (a TorchScript module traced in
// training mode keeps BatchNorm's batch statistics): compare a few examples
// extracted together with each extracted alone, before anything is cached.
void check_per_example(FeatureExtractor& extractor, const torch::Tensor& inputs) {
  const auto n = std::min<std::int64_t>(3, inputs.size(0));
  if (n < 2) return;
  const auto together = extractor.extract(inputs.narrow(0, 0, n)).to(torch::kFloat64);
  const double scale = together.abs().max().item<double>() + 1e-12;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto alone = extractor.extract(inputs.narrow(0, i, 1)).to(torch::kFloat64);
    const double diff = (together[i] - alone[0]).abs().max().item<double>();
    if (diff > 1e-4 * scale) {
      throw std::invalid_argument(util::cat(
          "the features of an example depend on the other examples of its batch (relative "
          "difference ",
          diff / scale,
          "), e.g. a module with BatchNorm in training mode: each example's features must be "
          "a function of that example alone, or the privacy analysis does not hold"));
    }
  }
}

torch::Tensor extract_all(FeatureExtractor& extractor, const torch::Tensor& inputs,
                          std::int64_t chunk) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < inputs.size(0); start += chunk) {
    const auto n = std::min(chunk, inputs.size(0) - start);
    parts.push_back(extractor.extract(inputs.narrow(0, start, n)));
  }
  return torch::cat(parts, 0);
}

std::map<std::string, torch::Tensor> extract_splits(FeatureExtractor& extractor,
                                                    const std::vector<NamedSplit>& splits,
                                                    std::int64_t chunk) {
  std::map<std::string, torch::Tensor> out;
  check_per_example(extractor, splits.front().second->inputs);
  for (const auto& [name, split] : splits) {
    if (split->size() > 0) out[name] = extract_all(extractor, split->inputs, chunk);
  }
  return out;
}

}  // namespace

nlohmann::json FeatureReport::to_json() const {
  return {{"extractor", fingerprint},
          {"provenance", provenance},
          {"cache_file", cache_file},
          {"from_cache", from_cache},
          {"extract_seconds", extract_seconds},
          {"load_seconds", load_seconds},
          {"feature_shape", shape}};
}

FeatureReport apply_features(const FeatureOptions& options, const std::vector<NamedSplit>& splits,
                             const torch::Device& device) {
  const auto& train = *splits.front().second;
  const auto example = train.inputs.sizes().slice(1).vec();
  auto extractor = extractor_registry().get(options.extractor)(options, example, device);
  std::vector<torch::Tensor> inputs;
  for (const auto& [name, split] : splits) inputs.push_back(split->inputs);
  FeatureReport report;
  report.fingerprint = extractor->fingerprint();
  // Features computed on a GPU differ from the CPU's in the last bits.
  report.fingerprint["device"] = device.is_cuda() ? "cuda" : device.str();
  report.provenance = extractor->provenance();
  const FeatureCache cache(options.cache_dir.empty() ? default_cache_dir() : options.cache_dir);
  const auto key = cache_key(report.fingerprint, inputs);
  report.cache_file = cache.file(key).string();
  std::filesystem::create_directories(cache.dir());
  // Concurrent runs of a sweep: one extracts, the others wait and read its entry.
  const auto lock = util::FileLock::acquire(cache.dir() / (key + ".lock"));
  util::Stopwatch clock;
  auto features = cache.load(key);
  report.from_cache = features.has_value();
  if (features) {
    report.load_seconds = clock.seconds();
    report.extract_seconds = cache.recorded_extract_seconds(key);
  } else {
    features = extract_splits(*extractor, splits, options.batch_size);
    report.extract_seconds = clock.seconds();
    cache.store(key, *features,
                {{"extractor", report.fingerprint},
                 {"provenance", report.provenance},
                 {"extract_seconds", report.extract_seconds}});
  }
  for (const auto& [name, split] : splits) {
    if (split->size() == 0) continue;
    auto f = features->at(name).to(device);
    if (options.normalisation == Normalisation::kGroupNorm) f = group_normalise(f, options.groups);
    split->inputs = f;
  }
  report.shape = train.inputs.sizes().slice(1).vec();
  util::log::info(util::cat(
      "features '", options.extractor, "': ", c10::IntArrayRef(report.shape), " per example, ",
      report.from_cache ? "from cache " : "extracted into ", report.cache_file, " (",
      report.from_cache ? report.load_seconds : report.extract_seconds, " s)"));
  return report;
}

}  // namespace dpsgd::features
