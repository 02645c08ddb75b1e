#include "dpsgd/config/config_loader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "dpsgd/config/sections.hpp"
#include "dpsgd/config/sweep_section.hpp"
#include "dpsgd/config/yaml_overrides.hpp"
#include "dpsgd/config/yaml_section.hpp"
#include "dpsgd/config/yaml_strict.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::config {
namespace {

using util::UserError;

DeviceChoice read_device(Section& top) {
  std::string device = "auto";
  top.read("device", device, "auto, cpu or cuda");
  if (device == "cpu") return DeviceChoice::kCpu;
  if (device == "cuda") return DeviceChoice::kCuda;
  if (device != "auto") top.fail("device", device, "auto, cpu or cuda");
  return DeviceChoice::kAuto;
}

// The closed-form heads fit a linear model on the features: model.pt then
// holds {fc.weight, fc.bias}, which `evaluate` and the `model` extractor load.
void check_head(const ExperimentConfig& c, const std::string& file) {
  if (c.features.enabled() && c.train.augment_hflip) {
    throw UserError(file + ": data.augment.hflip: 'true' is invalid with features.extractor '" +
                    c.features.extractor +
                    "': a flip of the features is not the features of the flipped image; "
                    "set it to false");
  }
  if (c.features.enabled() &&
      (c.train.augment_multiplicity > 1 || c.train.augment_crop_padding > 0)) {
    throw UserError(file +
                    ": data.augment: multiplicity and crop_padding are invalid with "
                    "features.extractor '" +
                    c.features.extractor +
                    "': features are computed once per image, not per view; remove them");
  }
  if (c.train.augment_multiplicity > 1 && c.privacy.enabled && c.privacy.microbatches > 0) {
    throw UserError(file +
                    ": data.augment.multiplicity: " + std::to_string(c.train.augment_multiplicity) +
                    " is invalid with privacy.microbatches (a microbatch is clipped as a whole, "
                    "so there is no per-example mean over views); set one of them off");
  }
  if (c.head.method == HeadMethod::kDpSgd) return;
  if (c.train.ema_decay > 0.0 || c.train.precision != util::Precision::kFloat32 ||
      c.train.augment_multiplicity > 1 || c.train.augment_crop_padding > 0 ||
      c.train.augment_hflip) {
    throw UserError(file +
                    ": train.ema, train.precision and data.augment (hflip, multiplicity, "
                    "crop_padding) apply to DP-SGD training only; remove them with head.method "
                    "dp_ls or dp_fc");
  }
  if (c.model.name != "linear" && c.model.name != "logistic_regression") {
    throw UserError(file + ": model.name: '" + c.model.name +
                    "' is invalid with head.method dp_ls or dp_fc: they fit a linear model; set "
                    "model.name: linear (or logistic_regression)");
  }
  if (c.privacy.enabled && c.privacy.max_epsilon) {
    throw UserError(file +
                    ": privacy.max_epsilon: not used by head.method dp_ls or dp_fc (their "
                    "mechanisms run in full); remove it, or use privacy.target_epsilon");
  }
}

// Rules that span sections.
void check_across_sections(ExperimentConfig& c, const std::string& file) {
  check_head(c, file);
  if (!c.privacy.enabled) {
    // A non-private run is one run, whatever sigma list the file (or the base of
    // a variant) holds: the list only sweeps private runs.
    c.privacy.target_epsilons.clear();
    c.privacy.noise_multipliers.assign(1, 0.0);
    return;
  }
  if (c.privacy.noise_multipliers.empty() == c.privacy.target_epsilons.empty()) {
    throw UserError(file +
                    ": give exactly one of privacy.noise_multiplier and "
                    "privacy.target_epsilon when privacy.enabled is true (a number, or "
                    "a list for a sweep)");
  }
  if (c.train.sampling != data::Sampling::kPoisson) {
    throw UserError(file +
                    ": train.sampling: 'shuffle' is invalid for a private run: the "
                    "privacy accounting assumes Poisson sampling; use poisson");
  }
}

ExperimentConfig from_yaml(const YAML::Node& root, const std::filesystem::path& source) {
  const std::string file = source.string();
  ExperimentConfig c;
  c.source = source;
  c.name = source.stem().string();
  Section top(root, "", file);
  top.read("name", c.name, "a string");
  std::int64_t seed = 0;
  top.read_int("seed", seed, 0, "an integer >= 0");
  c.seed = static_cast<std::uint64_t>(seed);
  c.device = read_device(top);
  read_data_section(top, c);
  read_features_section(top, c);
  read_model_section(top, c);
  read_head_section(top, c);
  read_train_section(top, c);
  read_privacy_section(top, c);
  Section output(top.get("output"), "output", file);
  const auto non_negative = [](double v) { return v >= 0; };
  output.read_double("flush_every_s", c.train.flush_every_s, non_negative, "a number >= 0");
  output.read_double("log_every_s", c.train.log_every_s, non_negative, "a number >= 0");
  output.read_double("checkpoint_every_s", c.train.checkpoint_every_s, non_negative,
                     "a number >= 0 (0: after every step)");
  output.read("unprotected_columns", c.train.unprotected_columns, "true or false");
  output.finish();
  top.finish();
  check_across_sections(c, file);
  c.train.seed = c.seed;
  c.train.delta = c.privacy.delta;
  c.train.secure_rng = c.privacy.secure_rng;  // the trainer's sampler follows it
  return c;
}

YAML::Node load_root(const std::string& yaml_text, const std::filesystem::path& source) {
  YAML::Node root = load_yaml_strict(yaml_text, source.string());
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  return root;
}

bool valid_variant_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') {
      return false;
    }
  }
  return true;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw UserError(path.string() + ": cannot read the config file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

ExperimentConfig parse_experiment_config(const std::string& yaml_text,
                                         const std::filesystem::path& source,
                                         const std::vector<std::string>& overrides) {
  auto root = load_root(yaml_text, source);
  if (root.IsMap() && root["variants"]) {
    throw UserError(source.string() +
                    ": variants: this file defines several variants; pick one with "
                    "--variant NAME (dpsgd-run runs them all by default)");
  }
  if (root.IsMap() && (root["sweep"] || root["tuning"])) {
    throw UserError(source.string() +
                    ": sweep: this file defines a sweep (or tuning); dpsgd-run runs all its "
                    "points, and --only RUN selects one");
  }
  for (const auto& o : overrides) apply_override(root, o, source.string());
  return from_yaml(root, source);
}

namespace {

using Base = std::pair<std::string, YAML::Node>;  // a variant's name and its tree

// Whether setting dotted key `key` and sweeping one of `swept` touch the same
// value: equal keys, or one inside the other (train.optimizer and
// train.optimizer.lr), where the later setting would silently win.
bool overlaps_any(const std::string& key, const std::vector<std::string>& swept) {
  return std::any_of(swept.begin(), swept.end(), [&](const std::string& k) {
    return k == key || key.rfind(k + ".", 0) == 0 || k.rfind(key + ".", 0) == 0;
  });
}

// The file's variants (`variants:`, filtered by --variant), or the file itself.
std::vector<Base> variant_bases(YAML::Node& root, const std::vector<std::string>& only,
                                const std::vector<std::string>& swept, const std::string& file) {
  const YAML::Node variants = root.IsMap() ? YAML::Clone(root["variants"]) : YAML::Node();
  if (!variants || variants.IsNull()) {
    if (!only.empty()) {
      throw UserError(file + ": --variant '" + only.front() +
                      "' given, but the file defines no variants");
    }
    return {{"", root}};
  }
  if (!variants.IsMap() || variants.size() == 0) {
    throw UserError(file + ": variants: '" + render(variants) +
                    "' is invalid: expected a mapping {variant-name: {dotted.key: value, ...}}");
  }
  root.remove("variants");
  std::vector<Base> out;
  std::string names;
  std::set<std::string> seen;
  for (const auto& kv : variants) {
    const auto name = kv.first.as<std::string>();
    names += (names.empty() ? "" : ", ") + name;
    if (!valid_variant_name(name)) {
      throw UserError(file + ": variants." + name +
                      ": invalid variant name: use letters, digits, '-', '_' and '.'");
    }
    if (!seen.insert(name).second) throw UserError(file + ": variants." + name + ": defined twice");
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    if (!kv.second.IsMap()) {
      throw UserError(file + ": variants." + name + ": '" + render(kv.second) +
                      "' is invalid: expected a mapping {dotted.key: value}");
    }
    YAML::Node copy = YAML::Clone(root);
    for (const auto& setting : kv.second) {
      const auto key = setting.first.as<std::string>();
      if (key.find('.') == std::string::npos) {
        // `model: {name: x}` would replace the whole section and silently drop
        // its other keys (num_classes, ...): settings name one key each.
        throw UserError(file + ": variants." + name + "." + key +
                        ": invalid: name the key inside the section (e.g. '" + key +
                        ".name: ...'), so the section's other keys are kept");
      }
      if (overlaps_any(key, swept)) {
        throw UserError(file + ": variants." + name + "." + key +
                        ": this key is swept by sweep.keys, which would override it; remove "
                        "one of the two");
      }
      set_path(copy, key, YAML::Clone(setting.second), "variants." + name + "." + key, file);
    }
    out.emplace_back(name, copy);
  }
  for (const auto& want : only) {
    if (std::none_of(out.begin(), out.end(), [&](const Base& b) { return b.first == want; })) {
      throw UserError(file + ": --variant '" + want + "' is not defined; variants: " + names);
    }
  }
  return out;
}

// Settings the sweep's draws read (its blocks, the seed, secure_rng) apply to
// the file before the sweep is read; the rest apply to each point.
bool starts_with_any(const std::string& o, std::initializer_list<const char*> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](const char* p) { return o.rfind(p, 0) == 0; });
}

// The blocks themselves: applied to the file only.
bool is_block_override(const std::string& o) {
  return starts_with_any(o, {"sweep.", "sweep=", "tuning.", "tuning="});
}

// What the sweep's draws read: applied to the file (before the draws) and
// again to each point (after its variant's settings, so --set still wins).
bool is_draw_input(const std::string& o) {
  return starts_with_any(o, {"seed=", "privacy.secure_rng="});
}

// A sweep point of a variant (or of the file) as a config.
ExperimentConfig point_config(const Base& base, const SweepPoint& point, const SweepPlan& plan,
                              const std::vector<std::string>& overrides,
                              const std::filesystem::path& source) {
  const std::string file = source.string();
  YAML::Node copy = YAML::Clone(base.second);
  for (const auto& [key, value] : point.settings) {
    set_path(copy, key, YAML::Clone(value), "sweep.keys." + key, file);
  }
  for (const auto& o : overrides) apply_override(copy, o, file);
  std::string name = base.first;
  if (!point.name.empty()) name += (name.empty() ? "" : "-") + point.name;
  try {
    auto c = from_yaml(copy, source);
    c.variant = name;
    c.tuning = plan.tuning;
    for (const auto& [key, value] : point.settings) c.sweep_point.emplace_back(key, render(value));
    if (point.seed) c.seed = c.train.seed = *point.seed;
    return c;
  } catch (const UserError& e) {
    if (name.empty()) throw;
    throw UserError(std::string(e.what()) + " (in " + (point.name.empty() ? "variant" : "point") +
                    " '" + name + "')");
  }
}

// What random trials need: one run per trial, and no variants beside them.
void check_random_trials(const std::vector<ExperimentConfig>& out, const SweepPlan& plan,
                         std::size_t bases, const std::string& file) {
  if (!plan.tuning.enabled || plan.tuning.trials == TrialCount::kEvery) return;
  if (plan.points.empty()) {
    throw UserError(file +
                    ": tuning.trials drew K = 0 trials (Poisson): nothing is trained or "
                    "released. That outcome is part of the mechanism: rerunning with another seed "
                    "until trials are drawn voids the analysis");
  }
  if (bases > 1) {
    throw UserError(file +
                    ": variants: not supported with random tuning.trials (each trial draws "
                    "one point of the sweep); put the choices under sweep.keys instead");
  }
  for (const auto& c : out) {
    if (c.privacy.noise_multipliers.size() + c.privacy.target_epsilons.size() > 1) {
      throw UserError(file +
                      ": privacy.noise_multiplier: a list gives several runs per trial; "
                      "with random tuning.trials give one value and sweep it under sweep.keys");
    }
  }
}

// Every point its own folder; random draws only where no secret is asked for.
void check_points(const std::vector<ExperimentConfig>& out, const SweepPlan& plan,
                  const std::string& file) {
  std::set<std::string> names;
  for (const auto& c : out) {
    if (!names.insert(c.variant).second) {
      throw UserError(file + ": sweep.keys: two points are both named '" + c.variant +
                      "' (a value listed twice, or values that print alike); make the values "
                      "distinct");
    }
  }
  const bool random = std::any_of(plan.points.begin(), plan.points.end(),
                                  [](const SweepPoint& p) { return p.seed.has_value(); });
  for (const auto& c : out) {
    if (random && c.privacy.secure_rng) {
      throw UserError(file +
                      ": privacy.secure_rng: random sweep draws and random tuning trials "
                      "are seeded only (not implemented with the OS CSPRNG); use sweep.mode: "
                      "grid with tuning.trials: every, or secure_rng: false" +
                      (c.variant.empty() ? std::string() : " (in '" + c.variant + "')"));
    }
  }
}

}  // namespace

std::vector<ExperimentConfig> parse_experiment_variants(const std::string& yaml_text,
                                                        const std::filesystem::path& source,
                                                        const std::vector<std::string>& overrides,
                                                        const std::vector<std::string>& only) {
  const std::string file = source.string();
  auto root = load_root(yaml_text, source);
  std::vector<std::string> rest;
  for (const auto& o : overrides) {
    // The blocks and the draws' inputs are read before any point exists.
    if (is_block_override(o) || is_draw_input(o)) apply_override(root, o, file);
    if (!is_block_override(o)) rest.push_back(o);
  }
  const auto plan = read_sweep(root, file);
  for (const auto& o : rest) {
    const auto key = o.substr(0, o.find('='));
    if (overlaps_any(key, plan.keys)) {
      throw UserError("--set '" + o + "': " + key + " is swept by sweep.keys in " + file +
                      "; change the sweep instead (--set 'sweep.keys={" + key + ": [...]}')");
    }
  }
  const auto bases = variant_bases(root, only, plan.keys, file);
  std::vector<ExperimentConfig> out;
  for (const auto& base : bases) {
    for (const auto& point : plan.points)
      out.push_back(point_config(base, point, plan, rest, source));
  }
  check_random_trials(out, plan, bases.size(), file);
  check_points(out, plan, file);
  return out;
}

std::vector<ExperimentConfig> load_experiment_variants(const std::filesystem::path& path,
                                                       const std::vector<std::string>& overrides,
                                                       const std::vector<std::string>& only) {
  return parse_experiment_variants(read_file(path), path, overrides, only);
}

}  // namespace dpsgd::config
