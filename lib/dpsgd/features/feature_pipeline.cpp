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
  for (const auto& [name, split] : splits) {
    if (split->size() > 0) out[name] = extract_all(extractor, split->inputs, chunk);
  }
  return out;
}

}  // namespace

nlohmann::json FeatureReport::to_json() const {
  return {{"extractor", fingerprint},   {"provenance", provenance},
          {"cache_file", cache_file},   {"from_cache", from_cache},
          {"extract_seconds", extract_seconds}, {"load_seconds", load_seconds},
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
  } else {
    features = extract_splits(*extractor, splits, options.batch_size);
    report.extract_seconds = clock.seconds();
    cache.store(key, *features, {{"extractor", report.fingerprint},
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
  util::log::info(util::cat("features '", options.extractor, "': ", c10::IntArrayRef(report.shape), " per example, ",
                            report.from_cache ? "from cache " : "extracted into ",
                            report.cache_file, " (",
                            report.from_cache ? report.load_seconds : report.extract_seconds,
                            " s)"));
  return report;
}

}  // namespace dpsgd::features
