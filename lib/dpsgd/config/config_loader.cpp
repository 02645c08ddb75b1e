#include "dpsgd/config/config_loader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/models/objectives/objective_registry.hpp"
#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/train/optimizer_registry.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::config {
namespace {

using util::UserError;

std::string render(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

// Walks one mapping, remembers which keys were read, and reports the rest.
class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& file)
      : node_(node), path_(std::move(path)), file_(file) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) {
      fail(path_.empty() ? "(top level)" : path_, render(node_), "a mapping of keys");
    }
  }

  [[noreturn]] void fail(const std::string& key, const std::string& value,
                         const std::string& expected) const {
    throw UserError(file_ + ": " + key + ": '" + value + "' is invalid: expected " + expected);
  }

  std::string key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

  YAML::Node get(const std::string& k) {
    seen_.insert(k);
    if (!node_ || !node_.IsMap()) return YAML::Node();
    const YAML::Node& map = node_;  // const access never inserts the key
    return map[k];
  }

  bool has(const std::string& k) {
    const auto n = get(k);
    return n && !n.IsNull();
  }

  template <typename T>
  void read(const std::string& k, T& out, const std::string& expected) {
    const auto n = get(k);
    if (!n || n.IsNull()) return;
    if (!n.IsScalar()) fail(key(k), render(n), expected);
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      fail(key(k), render(n), expected);
    }
  }

  void read_int(const std::string& k, std::int64_t& out, std::int64_t min_value,
                const std::string& expected) {
    read(k, out, expected);
    if (out < min_value) fail(key(k), std::to_string(out), expected);
  }

  void read_double(const std::string& k, double& out, const std::function<bool(double)>& ok,
                   const std::string& expected) {
    const auto n = get(k);
    if (!n || n.IsNull()) return;
    double v = 0;
    if (!n.IsScalar()) fail(key(k), render(n), expected);
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(key(k), render(n), expected);
    }
    if (!std::isfinite(v) || !ok(v)) fail(key(k), n.Scalar(), expected);
    out = v;
  }

  template <typename Registry>
  void read_name(const std::string& k, std::string& out, const Registry& registry) {
    read(k, out, "one of: " + registry.joined_names());
    if (!registry.contains(out)) {
      fail(key(k), out, "one of: " + registry.joined_names());
    }
  }

  /// Rejects keys that were never read (typos, keys of other versions).
  void finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      const auto k = kv.first.as<std::string>();
      if (seen_.count(k) == 0) {
        std::string valid;
        for (const auto& s : seen_) valid += (valid.empty() ? "" : ", ") + s;
        throw UserError(file_ + ": unknown key '" + key(k) + "'" +
                        (path_.empty() ? "" : " in section '" + path_ + "'") +
                        "; valid keys here: " + valid);
      }
    }
  }

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& file_;
  std::set<std::string> seen_;
};

// Sets the dotted `path` of `root` to `value`; `context` names the source in errors.
void set_path(YAML::Node& root, const std::string& path, const YAML::Node& value,
              const std::string& context, const std::string& file);

void apply_override(YAML::Node& root, const std::string& assignment, const std::string& file) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UserError("--set '" + assignment + "': expected KEY=VALUE, e.g. train.epochs=3");
  }
  const std::string path = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw UserError("--set '" + assignment + "': value is not valid YAML: " + e.what());
  }
  set_path(root, path, value, "--set '" + assignment + "'", file);
}

void set_path(YAML::Node& root, const std::string& path, const YAML::Node& value,
              const std::string& context, const std::string& file) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  // yaml-cpp nodes are handles: walk by reassignment so nested maps are created in place.
  std::vector<YAML::Node> chain{root};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (next && !next.IsNull() && !next.IsMap()) {
      throw UserError(context + ": '" + parts[i] + "' in " + file + " is not a section");
    }
    if (!next || next.IsNull()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
}

// privacy.clipping: the mode and the options that apply to it. A key given for
// a mode it does not apply to is an error, not silently ignored: a researcher
// who sets gamma under mode flat has a wrong idea of the run.
void read_clipping(Section& priv, ClippingConfig& out, const std::string& file) {
  Section clip(priv.get("clipping"), "privacy.clipping", file);
  clip.read_name("mode", out.mode, privacy::clipper_registry());
  auto& o = out.options;
  auto positive = [](double v) { return v > 0; };
  const std::string& mode = out.mode;
  auto only_for = [&](const std::string& k, const std::vector<std::string>& modes) {
    if (!clip.has(k)) return false;
    for (const auto& m : modes) {
      if (m == mode) return true;
    }
    std::string list;
    for (const auto& m : modes) list += (list.empty() ? "" : ", ") + m;
    clip.fail(clip.key(k), render(clip.get(k)),
              "no value: it applies only to mode " + list + " (mode is '" + mode + "')");
  };
  clip.read_double("max_grad_norm", o.max_grad_norm, positive, "a number > 0");
  if (only_for("layer_max_grad_norms", {"per_layer", "automatic", "random_sparsification"})) {
    const auto node = clip.get("layer_max_grad_norms");
    const std::string expected = "a non-empty list of numbers > 0, one per layer";
    if (!node.IsSequence() || node.size() == 0) {
      clip.fail(clip.key("layer_max_grad_norms"), render(node), expected);
    }
    for (const auto& item : node) {
      double v = -1;
      try {
        v = item.as<double>();
      } catch (const YAML::Exception&) {
        clip.fail(clip.key("layer_max_grad_norms"), render(node), expected);
      }
      if (!std::isfinite(v) || v <= 0) {
        clip.fail(clip.key("layer_max_grad_norms"), render(node), expected);
      }
      o.layer_max_grad_norms.push_back(v);
    }
  }
  if (only_for("per_layer", {"automatic", "random_sparsification"})) {
    clip.read("per_layer", o.per_layer, "true or false");
  }
  if (mode == "per_layer") o.per_layer = true;
  if (!o.layer_max_grad_norms.empty() && !o.per_layer) {
    clip.fail(clip.key("layer_max_grad_norms"), render(clip.get("layer_max_grad_norms")),
              "no value unless per_layer is true (flat variants have one threshold)");
  }
  if (only_for("variant", {"automatic"})) {
    std::string variant;
    clip.read("variant", variant, "s or v (AUTO-S or AUTO-V)");
    if (variant == "s") {
      o.automatic_variant = privacy::AutomaticVariant::kS;
    } else if (variant == "v") {
      o.automatic_variant = privacy::AutomaticVariant::kV;
    } else {
      clip.fail(clip.key("variant"), variant, "s or v (AUTO-S or AUTO-V)");
    }
  }
  if (only_for("gamma", {"automatic"})) {
    if (o.automatic_variant == privacy::AutomaticVariant::kV) {
      clip.fail(clip.key("gamma"), render(clip.get("gamma")),
                "no value with variant v (AUTO-V is gamma = 0)");
    }
    clip.read_double("gamma", o.gamma, positive, "a number > 0");
  }
  if (only_for("final_rate", {"random_sparsification"})) {
    clip.read_double(
        "final_rate", o.final_rate, [](double v) { return v >= 0 && v < 1; }, "a number in [0, 1)");
  }
  if (only_for("refresh", {"random_sparsification"})) {
    clip.read_int("refresh", o.refresh, 1, "an integer >= 1 (mask redraws per epoch)");
  }
  if (only_for("target_quantile", {"adaptive"})) {
    clip.read_double(
        "target_quantile", o.target_quantile, [](double v) { return v > 0 && v < 1; },
        "a number in (0, 1)");
  }
  if (only_for("quantile_lr", {"adaptive"})) {
    clip.read_double("quantile_lr", o.quantile_lr, positive, "a number > 0");
  }
  if (only_for("count_noise_std", {"adaptive"})) {
    clip.read_double("count_noise_std", o.count_noise_std, positive,
                     "a number > 0 (examples; default expected batch / 20)");
  }
  clip.finish();
}

// data keys of segmentation_folder; an error for any other data set.
void read_segmentation_keys(Section& data, DataConfig& out) {
  auto& o = out.segmentation;
  const bool applies = out.name == "segmentation_folder";
  for (const char* k : {"image_size", "mean", "std", "label_map"}) {
    if (data.has(k) && !applies) {
      data.fail(data.key(k), render(data.get(k)),
                "no value: it applies only to data.name segmentation_folder (name is '" + out.name +
                    "')");
    }
  }
  if (!applies) return;
  auto numbers = [&](const char* k, const std::string& expected) {
    std::vector<double> values;
    const auto node = data.get(k);
    auto one = [&](const YAML::Node& n) {
      double v = 0;
      try {
        v = n.as<double>();
      } catch (const YAML::Exception&) {
        data.fail(data.key(k), render(node), expected);
      }
      if (!std::isfinite(v)) data.fail(data.key(k), render(node), expected);
      values.push_back(v);
    };
    if (node.IsSequence()) {
      if (node.size() == 0) data.fail(data.key(k), "[]", expected);
      for (const auto& item : node) one(item);
    } else {
      one(node);
    }
    return values;
  };
  if (data.has("image_size")) {
    // 16: the U-Nets pool four times; 0 (both): keep the files' size.
    const std::string expected =
        "[height, width] or one number (square), each an integer >= 16, or [0, 0] to keep the "
        "files' size";
    const auto v = numbers("image_size", expected);
    if (v.size() > 2) data.fail(data.key("image_size"), render(data.get("image_size")), expected);
    const bool keep = v.front() == 0 && v.back() == 0;
    for (double x : v) {
      if ((!keep && x < 16) || x != std::floor(x)) {
        data.fail(data.key("image_size"), render(data.get("image_size")), expected);
      }
    }
    o.image_size = {static_cast<std::int64_t>(v.front()), static_cast<std::int64_t>(v.back())};
  }
  if (data.has("mean")) o.mean = numbers("mean", "a number or a list, one per channel");
  if (data.has("std")) {
    const std::string expected = "a number > 0 or a list of them, one per channel";
    o.std = numbers("std", expected);
    for (double v : o.std) {
      if (v <= 0) data.fail(data.key("std"), render(data.get("std")), expected);
    }
  }
  if (data.has("label_map")) {
    const auto node = data.get("label_map");
    const std::string expected = "a mapping {source label: class}, labels >= 0, e.g. {8: 0, 9: 8}";
    if (!node.IsMap()) data.fail(data.key("label_map"), render(node), expected);
    for (const auto& kv : node) {
      std::int64_t from = -1;
      std::int64_t to = -1;
      try {
        from = kv.first.as<std::int64_t>();
        to = kv.second.as<std::int64_t>();
      } catch (const YAML::Exception&) {
        data.fail(data.key("label_map"), render(node), expected);
      }
      if (from < 0 || to < 0 || from > 65535) {
        data.fail(data.key("label_map"), render(node), expected);
      }
      o.label_map.emplace_back(from, to);
    }
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
  std::string device = "auto";
  top.read("device", device, "auto, cpu or cuda");
  if (device == "auto")
    c.device = DeviceChoice::kAuto;
  else if (device == "cpu")
    c.device = DeviceChoice::kCpu;
  else if (device == "cuda")
    c.device = DeviceChoice::kCuda;
  else
    top.fail("device", device, "auto, cpu or cuda");

  Section data(top.get("data"), "data", file);
  data.read_name("name", c.data.name, data::dataset_registry());
  data.read("root", c.data.root, "a path");
  data.read_int("train_size", c.data.train_size, 0, "an integer >= 0 (0 = all)");
  data.read_int("test_size", c.data.test_size, 0, "an integer >= 0 (0 = all)");
  data.read_int("val_size", c.data.val_size, 0, "an integer >= 0 (0 = all)");
  read_segmentation_keys(data, c.data);
  {
    Section augment(data.get("augment"), "data.augment", file);
    augment.read("hflip", c.train.augment_hflip, "true or false");
    augment.finish();
  }
  data.finish();

  Section model(top.get("model"), "model", file);
  model.read_name("name", c.model.name, models::model_registry());
  model.read_int("num_classes", c.model.options.num_classes, 2, "an integer >= 2");
  model.read_int("base_filters", c.model.options.base_filters, 1, "an integer >= 1");
  model.read_int("norm_groups", c.model.options.norm_groups, 1,
                 "an integer >= 1 dividing base_filters");
  if (c.model.options.base_filters % c.model.options.norm_groups != 0) {
    model.fail(
        model.key("norm_groups"), std::to_string(c.model.options.norm_groups),
        "a divisor of model.base_filters (" + std::to_string(c.model.options.base_filters) + ")");
  }
  model.finish();

  Section train(top.get("train"), "train", file);
  train.read_int("epochs", c.train.epochs, 1, "an integer >= 1");
  train.read_int("batch_size", c.train.batch_size, 1, "an integer >= 1");
  train.read_int("physical_batch_size", c.train.physical_batch_size, 0,
                 "an integer >= 0 (0 = whole batch)");
  train.read_int("eval_batch_size", c.train.eval_batch_size, 1, "an integer >= 1");
  std::string sampling = "poisson";
  train.read("sampling", sampling, "poisson or shuffle");
  if (sampling != "poisson" && sampling != "shuffle") {
    train.fail(train.key("sampling"), sampling, "poisson or shuffle");
  }
  c.train.poisson_sampling = sampling == "poisson";
  {
    Section loss(train.get("loss"), "train.loss", file);
    std::string name = "auto";
    loss.read("name", name, "auto or one of: " + models::objective_registry().joined_names());
    if (name != "auto" && !models::objective_registry().contains(name)) {
      loss.fail(loss.key("name"), name,
                "auto or one of: " + models::objective_registry().joined_names());
    }
    c.loss.name = name;
    auto& lo = c.loss.options;
    loss.read_double(
        "ce_weight", lo.ce_weight, [](double v) { return v >= 0; }, "a number >= 0");
    loss.read_double(
        "dice_weight", lo.dice_weight, [](double v) { return v >= 0; }, "a number >= 0");
    const auto classes = loss.get("score_classes");
    if (classes && !classes.IsNull()) {
      const std::string expected = "a non-empty list of class indices in [0, model.num_classes)";
      if (!classes.IsSequence() || classes.size() == 0) {
        loss.fail(loss.key("score_classes"), render(classes), expected);
      }
      for (const auto& item : classes) {
        std::int64_t k = -1;
        try {
          k = item.as<std::int64_t>();
        } catch (const YAML::Exception&) {
          loss.fail(loss.key("score_classes"), render(classes), expected);
        }
        if (k < 0 || k >= c.model.options.num_classes) {
          loss.fail(loss.key("score_classes"), render(classes), expected);
        }
        lo.score_classes.push_back(k);
      }
    }
    if (name == "cross_entropy") {
      for (const char* k : {"ce_weight", "dice_weight", "score_classes"}) {
        if (loss.has(k)) {
          loss.fail(loss.key(k), render(loss.get(k)),
                    "no value: it applies only to cross_entropy_dice (name is 'cross_entropy')");
        }
      }
    }
    lo.num_classes = c.model.options.num_classes;
    loss.finish();
  }
  Section opt(train.get("optimizer"), "train.optimizer", file);
  opt.read_name("name", c.optimizer, train::optimizer_registry());
  auto positive = [](double v) { return v > 0; };
  auto non_negative = [](double v) { return v >= 0; };
  auto unit = [](double v) { return v >= 0 && v < 1; };
  opt.read_double("lr", c.optimizer_options.lr, positive, "a number > 0");
  opt.read_double("momentum", c.optimizer_options.momentum, unit, "a number in [0, 1)");
  opt.read("nesterov", c.optimizer_options.nesterov, "true or false");
  opt.read_double("weight_decay", c.optimizer_options.weight_decay, non_negative, "a number >= 0");
  opt.read_double("beta1", c.optimizer_options.beta1, unit, "a number in [0, 1)");
  opt.read_double("beta2", c.optimizer_options.beta2, unit, "a number in [0, 1)");
  opt.read_double("eps", c.optimizer_options.eps, positive, "a number > 0");
  Section sched(opt.get("schedule"), "train.optimizer.schedule", file);
  sched.read_name("name", c.lr_schedule, train::lr_schedule_registry());
  auto& so = c.lr_schedule_options;
  sched.read_double("warmup_epochs", so.warmup_epochs, non_negative, "a number >= 0");
  sched.read_double("step_epochs", so.step_epochs, positive, "a number > 0");
  sched.read_double(
      "gamma", so.gamma, [](double v) { return v > 0 && v <= 1; }, "a number in (0, 1]");
  sched.read_double(
      "min_lr_fraction", so.min_lr_fraction, [](double v) { return v >= 0 && v <= 1; },
      "a number in [0, 1]");
  sched.finish();
  opt.finish();
  train.finish();

  Section priv(top.get("privacy"), "privacy", file);
  priv.read("enabled", c.privacy.enabled, "true or false");
  priv.read_name("engine", c.privacy.engine, privacy::engine_registry());
  priv.read_double(
      "delta", c.privacy.delta, [](double v) { return v > 0 && v < 1; }, "a number in (0, 1)");
  priv.read_name("accountant", c.privacy.accountant, accounting::accountant_registry());
  std::string conversion = "improved";
  priv.read("rdp_conversion", conversion, "improved or classic");
  try {
    c.privacy.accountant_options.rdp_conversion = accounting::parse_rdp_conversion(conversion);
  } catch (const std::invalid_argument&) {
    priv.fail(priv.key("rdp_conversion"), conversion, "improved or classic");
  }
  read_clipping(priv, c.privacy.clipping, file);
  priv.read_int("microbatches", c.privacy.microbatches, 0, "an integer >= 0 (0: off)");
  priv.read("secure_noise", c.privacy.secure_noise, "true or false");
  if (c.privacy.microbatches > 0 && c.privacy.engine != "loop" && c.privacy.engine != "auto") {
    priv.fail(priv.key("engine"), c.privacy.engine,
              "loop or auto when privacy.microbatches is set (one backward per microbatch)");
  }
  if (c.privacy.microbatches > 0 && c.privacy.clipping.mode == "adaptive") {
    priv.fail(priv.key("microbatches"), std::to_string(c.privacy.microbatches),
              "0 with clipping mode adaptive (its count is per example)");
  }
  if (c.privacy.clipping.mode == "random_sparsification" && c.privacy.engine == "ghost") {
    priv.fail(priv.key("engine"), c.privacy.engine,
              "loop, materialize or auto with random_sparsification (its mask changes each "
              "example's norm, which ghost norms cannot see)");
  }
  // A number or a list of numbers (a sweep), each passing `ok`.
  auto read_number_list = [&](const std::string& k, std::vector<double>& out,
                              const std::function<bool(double)>& ok, const std::string& expected) {
    const auto node = priv.get(k);
    auto one = [&](const YAML::Node& n) {
      double v = -1;
      if (!n.IsScalar()) priv.fail(priv.key(k), render(node), expected);
      try {
        v = n.as<double>();
      } catch (const YAML::Exception&) {
        priv.fail(priv.key(k), render(n), expected);
      }
      if (!std::isfinite(v) || !ok(v)) priv.fail(priv.key(k), render(n), expected);
      out.push_back(v);
    };
    if (node && node.IsSequence()) {
      if (node.size() == 0) priv.fail(priv.key(k), "[]", expected);
      for (const auto& item : node) one(item);
    } else if (node && !node.IsNull()) {
      one(node);
    }
  };
  read_number_list("noise_multiplier", c.privacy.noise_multipliers, non_negative,
                   "a number >= 0 or a non-empty list of them");
  read_number_list("target_epsilon", c.privacy.target_epsilons, positive,
                   "a number > 0 or a non-empty list of them");
  priv.finish();

  Section output(top.get("output"), "output", file);
  output.read_double("flush_every_s", c.train.flush_every_s, non_negative, "a number >= 0");
  output.read_double("log_every_s", c.train.log_every_s, non_negative, "a number >= 0");
  output.finish();
  top.finish();

  // Cross-key rules.
  if (c.privacy.enabled) {
    if (c.privacy.noise_multipliers.empty() == c.privacy.target_epsilons.empty()) {
      throw UserError(file +
                      ": give exactly one of privacy.noise_multiplier and "
                      "privacy.target_epsilon when privacy.enabled is true (a number, or "
                      "a list for a sweep)");
    }
    if (!c.train.poisson_sampling) {
      throw UserError(file +
                      ": train.sampling: 'shuffle' is invalid for a private run: the "
                      "privacy accounting assumes Poisson sampling; use poisson");
    }
  } else {
    // A non-private run is one run, whatever sigma list the file (or the base of
    // a variant) holds: the list only sweeps private runs.
    c.privacy.target_epsilons.clear();
    c.privacy.noise_multipliers.assign(1, 0.0);
  }
  c.seed = static_cast<std::uint64_t>(seed);
  c.train.seed = c.seed;
  c.train.delta = c.privacy.delta;
  return c;
}

YAML::Node load_root(const std::string& yaml_text, const std::filesystem::path& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw UserError(source.string() + ": not valid YAML: " + e.what());
  }
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
  for (const auto& o : overrides) apply_override(root, o, source.string());
  return from_yaml(root, source);
}

std::vector<ExperimentConfig> parse_experiment_variants(const std::string& yaml_text,
                                                        const std::filesystem::path& source,
                                                        const std::vector<std::string>& overrides,
                                                        const std::vector<std::string>& only) {
  const std::string file = source.string();
  auto root = load_root(yaml_text, source);
  const YAML::Node variants = root.IsMap() ? YAML::Clone(root["variants"]) : YAML::Node();
  if (!variants || variants.IsNull()) {
    if (!only.empty()) {
      throw UserError(file + ": --variant '" + only.front() +
                      "' given, but the file defines no variants");
    }
    for (const auto& o : overrides) apply_override(root, o, file);
    return {from_yaml(root, source)};
  }
  if (!variants.IsMap() || variants.size() == 0) {
    throw UserError(file + ": variants: '" + render(variants) +
                    "' is invalid: expected a mapping {variant-name: {dotted.key: value, ...}}");
  }
  root.remove("variants");
  std::vector<ExperimentConfig> out;
  std::string names;
  std::set<std::string> seen;
  for (const auto& kv : variants) {
    const auto name = kv.first.as<std::string>();
    names += (names.empty() ? "" : ", ") + name;
    if (!valid_variant_name(name)) {
      throw UserError(file + ": variants." + name +
                      ": invalid variant name: use letters, digits, '-', '_' and '.'");
    }
    if (!seen.insert(name).second) {
      throw UserError(file + ": variants." + name + ": defined twice");
    }
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
      set_path(copy, key, YAML::Clone(setting.second), "variants." + name + "." + key, file);
    }
    for (const auto& o : overrides) apply_override(copy, o, file);
    try {
      auto c = from_yaml(copy, source);
      c.variant = name;
      out.push_back(std::move(c));
    } catch (const UserError& e) {
      throw UserError(std::string(e.what()) + " (in variant '" + name + "')");
    }
  }
  for (const auto& want : only) {
    bool found = false;
    for (const auto& c : out) found = found || c.variant == want;
    if (!found) {
      throw UserError(file + ": --variant '" + want + "' is not defined; variants: " + names);
    }
  }
  return out;
}

std::vector<ExperimentConfig> load_experiment_variants(const std::filesystem::path& path,
                                                       const std::vector<std::string>& overrides,
                                                       const std::vector<std::string>& only) {
  return parse_experiment_variants(read_file(path), path, overrides, only);
}

ExperimentConfig load_experiment_config(const std::filesystem::path& path,
                                        const std::vector<std::string>& overrides) {
  return parse_experiment_config(read_file(path), path, overrides);
}

}  // namespace dpsgd::config
