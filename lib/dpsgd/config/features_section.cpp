#include <cmath>
#include <filesystem>

#include "dpsgd/config/config_json.hpp"
#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/config/sections.hpp"
#include "dpsgd/features/extractor_registry.hpp"
#include "dpsgd/util/content_hash.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::config {
namespace {

using features::FeatureOptions;

// The content hash of an extractor's file, checked against `hash_key` when the
// config gives one (a resolved config.yaml does): a file that changed since the
// run was written would give other features under the same settings.
std::string checked_hash(Section& s, const std::string& hash_key, const std::string& path_key,
                         const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file)) {
    s.fail(s.key(path_key), file.string(), "an existing file");
  }
  const auto actual = util::ContentHash().add_file(file).hex();
  std::string given;
  s.read(hash_key, given, "the 16-digit content hash of " + file.string());
  if (!given.empty() && given != actual) {
    s.fail(s.key(hash_key), given,
           "the content hash of " + file.string() + " (now " + actual +
               "): the file changed since this config was written; restore it, or rerun "
               "with --restart");
  }
  return actual;
}

void read_scatternet(Section& features, FeatureOptions& o) {
  Section s(features.get("scatternet"), features.key("scatternet"), features.file());
  s.read_int("J", o.scatternet.J, 1, 6, "an integer in [1, 6]");
  s.read_int("L", o.scatternet.L, 1, 32, "an integer in [1, 32]");
  s.finish();
}

void read_torchscript(Section& features, FeatureOptions& o) {
  Section s(features.get("torchscript"), features.key("torchscript"), features.file());
  auto& t = o.torchscript;
  std::string file;
  s.read("file", file, "the path of a file saved by torch.jit.save");
  if (file.empty()) s.fail(s.key("file"), "", "the path of a file saved by torch.jit.save");
  t.file = file;
  t.file_hash = checked_hash(s, "file_hash", "file", t.file);
  s.read("output", t.output, "\"\" (the module's output) or a dotted submodule path");
  s.read_int("repeat_channels", t.repeat_channels, 0, 64, "0 (as is) or a channel count");
  s.read_int("resize", t.resize, 0, 4096, "0 (as is) or a side in [1, 4096]");
  const auto finite = [](double v) { return std::isfinite(v); };
  if (s.has("mean")) s.read_number_list("mean", t.mean, finite, "a list of numbers");
  if (s.has("std")) {
    s.read_number_list(
        "std", t.std, [](double v) { return v > 0 && std::isfinite(v); }, "a list of numbers > 0");
  }
  s.finish();
}

// features.model.run: the run's own config.yaml says which model it trained and
// on what data; both are read here, once, so nothing below parses YAML.
void read_trained_model(Section& features, const DataConfig& data, FeatureOptions& o) {
  Section s(features.get("model"), features.key("model"), features.file());
  std::string run;
  s.read("run", run, "the folder of a completed dpsgd run (config.yaml, model.pt)");
  const auto config_file = std::filesystem::path(run) / "config.yaml";
  if (run.empty() || !std::filesystem::exists(config_file)) {
    s.fail(s.key("run"), run,
           "the folder of a completed dpsgd run (config.yaml, model.pt); " + config_file.string() +
               " not found");
  }
  o.model.model_hash =
      checked_hash(s, "model_hash", "run", std::filesystem::path(run) / "model.pt");
  s.read("declare_public", o.model.declare_public, "true or false");
  const auto trained = load_experiment_variants(config_file, {}, {}).front();
  // A model trained on the private data set holds private examples in its
  // weights, which the private run's epsilon would not cover.
  if (trained.data.name == data.name && trained.data.root == data.root && !o.model.declare_public) {
    s.fail(s.key("run"), run,
           "a run trained on another data set: this one trained on data '" + data.name +
               "', the data of this private run, so its weights may hold private examples "
               "the epsilon does not cover; set features.model.declare_public: true only if "
               "its training data is public and disjoint from this run's");
  }
  s.finish();
  o.model.run = run;
  o.model.model_name = trained.model.name;
  o.model.options = trained.model.options;
  const auto echo = run_config_json(trained, 0.0);
  o.model.trained_on = {{"data", echo["data"]}, {"privacy", echo["privacy"]}};
}

void read_normalisation(Section& features, FeatureOptions& o) {
  std::string name = "none";
  const std::string expected = "none or group_norm";
  features.read("normalisation", name, expected);
  if (name == "group_norm") {
    o.normalisation = features::Normalisation::kGroupNorm;
  } else if (name != "none") {
    features.fail(features.key("normalisation"), name, expected);
  }
  features.read_int("groups", o.groups, 1, "an integer >= 1 dividing the feature channels");
  if (o.normalisation != features::Normalisation::kGroupNorm && features.has("groups")) {
    features.fail(features.key("groups"), render(features.get("groups")),
                  "no value: it applies only to normalisation: group_norm");
  }
}

}  // namespace

void read_features_section(Section& top, ExperimentConfig& c) {
  Section features(top.get("features"), "features", top.file());
  auto& o = c.features;
  features.read_name("extractor", o.extractor, features::extractor_registry());
  for (const char* k : {"scatternet", "torchscript", "model"}) {
    if (features.has(k) && o.extractor != k) {
      features.fail(features.key(k), render(features.get(k)),
                    "no value: it applies only to extractor: " + std::string(k) +
                        " (extractor is '" + o.extractor + "')");
    }
  }
  if (o.extractor == "scatternet") read_scatternet(features, o);
  if (o.extractor == "torchscript") read_torchscript(features, o);
  if (o.extractor == "model") read_trained_model(features, c.data, o);
  read_normalisation(features, o);
  std::string cache_dir;
  features.read("cache_dir", cache_dir, "a folder");
  o.cache_dir = cache_dir;
  features.read_int("batch_size", o.batch_size, 1, "an integer >= 1");
  if (!o.enabled() && (o.normalisation != features::Normalisation::kNone)) {
    features.fail(features.key("normalisation"), "group_norm",
                  "none when features.extractor is none");
  }
  features.finish();
}

}  // namespace dpsgd::config
