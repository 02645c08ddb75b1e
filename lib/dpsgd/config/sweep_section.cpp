#include "dpsgd/config/sweep_section.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "dpsgd/config/yaml_section.hpp"
#include "dpsgd/tuning/trial_count.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/seeds.hpp"

namespace dpsgd::config {
namespace {

using Keys = std::vector<std::pair<std::string, std::vector<YAML::Node>>>;

TuningConfig read_tuning(Section& t) {
  TuningConfig out;
  out.enabled = true;
  t.read("metric", out.metric, "the name of a validation metric, e.g. accuracy or loss");
  if (out.metric.empty()) t.fail(t.key("metric"), "", "a validation metric, e.g. accuracy");
  std::string mode = "max";
  t.read("mode", mode, "max or min");
  if (mode != "max" && mode != "min") t.fail(t.key("mode"), mode, "max or min");
  out.maximise = mode == "max";
  std::string trials = "every";
  const std::string kinds = "every, poisson or truncated_negative_binomial";
  t.read("trials", trials, kinds);
  if (trials == "poisson") {
    out.trials = TrialCount::kPoisson;
    t.read_double(
        "mean", out.mean, [](double v) { return v > 0 && v < 700; }, "a number in (0, 700)");
    if (out.mean <= 0) t.fail(t.key("mean"), "(missing)", "the expected number of trials, > 0");
  } else if (trials == "truncated_negative_binomial") {
    out.trials = TrialCount::kTruncatedNegativeBinomial;
    t.read_double(
        "eta", out.eta, [](double v) { return v > -1; }, "a number > -1");
    t.read_double(
        "gamma", out.gamma, [](double v) { return v > 0 && v < 1; }, "a number in (0, 1)");
  } else if (trials != "every") {
    t.fail(t.key("trials"), trials, kinds);
  }
  t.finish();
  return out;
}

Keys read_keys(const YAML::Node& node, const std::string& file) {
  if (!node || !node.IsMap() || node.size() == 0) {
    throw util::UserError(file + ": sweep.keys: '" + (node ? render(node) : std::string("")) +
                          "' is invalid: expected {dotted.key: [value, ...], ...}");
  }
  Keys keys;
  for (const auto& kv : node) {
    const auto key = kv.first.as<std::string>();
    if (key.find('.') == std::string::npos) {
      throw util::UserError(file + ": sweep.keys." + key +
                            ": name one key inside its section (e.g. train.optimizer.lr)");
    }
    if (!kv.second.IsSequence() || kv.second.size() == 0) {
      throw util::UserError(file + ": sweep.keys." + key + ": '" + render(kv.second) +
                            "' is invalid: expected a non-empty list of values");
    }
    for (const auto& [other, values] : keys) {
      if (key.rfind(other + ".", 0) == 0 || other.rfind(key + ".", 0) == 0) {
        throw util::UserError(file + ": sweep.keys." + key + ": overlaps sweep.keys." + other +
                              " (one holds the other); sweep one of them");
      }
    }
    std::vector<YAML::Node> values;
    for (const auto& v : kv.second) values.push_back(YAML::Clone(v));
    keys.emplace_back(key, std::move(values));
  }
  return keys;
}

// A key's label in point names: its last component, or the whole key (dots as
// '-') when two keys share the last component.
std::vector<std::string> labels(const Keys& keys) {
  std::vector<std::string> last;
  for (const auto& [key, values] : keys) last.push_back(key.substr(key.rfind('.') + 1));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const bool shared = std::count(last.begin(), last.end(), last[i]) > 1;
    std::string label = shared ? keys[i].first : last[i];
    for (char& ch : label) ch = ch == '.' ? '-' : ch;
    out.push_back(label);
  }
  return out;
}

// A value as a folder-name part: letters, digits, '.' and '-' kept, '+' dropped
// (1e+3 -> 1e3, never 1e-3), anything else '-'. Names that still collide are
// refused by the config loader.
std::string value_text(const YAML::Node& v) {
  std::string text;
  for (const char ch : v.IsScalar() ? v.Scalar() : render(v)) {
    if (ch == '+') continue;
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-';
    text += keep ? ch : '-';
  }
  return text;
}

SweepPoint make_point(const Keys& keys, const std::vector<std::string>& label,
                      const std::vector<std::size_t>& choice, const std::string& prefix) {
  SweepPoint p;
  p.name = prefix;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto& v = keys[i].second[choice[i]];
    p.name += (p.name.empty() ? "" : "_") + label[i] + value_text(v);
    p.settings.emplace_back(keys[i].first, v);
  }
  return p;
}

std::vector<SweepPoint> grid(const Keys& keys) {
  const auto label = labels(keys);
  std::vector<SweepPoint> out;
  std::vector<std::size_t> choice(keys.size(), 0);
  while (true) {
    out.push_back(make_point(keys, label, choice, ""));
    std::size_t i = keys.size();
    while (i > 0 && ++choice[i - 1] == keys[i - 1].second.size()) choice[--i] = 0;
    if (i == 0) return out;
  }
}

// `count` points, each key's value drawn uniformly and independently, each
// point with its own run seed (a sub-stream of kTuningTrials).
std::vector<SweepPoint> draws(const Keys& keys, std::int64_t count, const std::string& prefix,
                              std::uint64_t stream, util::RandomSource& source) {
  const auto label = labels(keys);
  std::vector<SweepPoint> out;
  for (std::int64_t t = 1; t <= count; ++t) {
    std::vector<std::size_t> choice;
    for (const auto& [key, values] : keys) {
      const auto n = static_cast<std::int64_t>(values.size());
      choice.push_back(static_cast<std::size_t>(source.randint(n, 1).item<std::int64_t>()));
    }
    out.push_back(make_point(keys, label, choice, prefix + std::to_string(t)));
    out.back().seed = util::substream_seed(stream, static_cast<std::uint64_t>(t));
  }
  return out;
}

}  // namespace

namespace {

// The file's seed and secure_rng, read leniently here: from_yaml checks them.
std::uint64_t file_seed(const YAML::Node& root) {
  try {
    if (root["seed"] && root["seed"].IsScalar()) return root["seed"].as<std::uint64_t>();
  } catch (const YAML::Exception&) {
  }
  return 0;
}

bool file_secure(const YAML::Node& root) {
  try {
    const auto p = root["privacy"];
    if (p && p.IsMap() && p["secure_rng"]) return p["secure_rng"].as<bool>();
  } catch (const YAML::Exception&) {
  }
  return false;
}

// Points with random choices: a random number of trials, or a number of draws.
std::vector<SweepPoint> random_points(const YAML::Node& root, const Keys& keys,
                                      const TuningConfig& tuning, std::int64_t count,
                                      const std::string& file) {
  if (file_secure(root)) {
    throw util::UserError(file +
                          ": privacy.secure_rng: random sweep draws and random tuning trials are "
                          "seeded only (not implemented with the OS CSPRNG); use sweep.mode: grid "
                          "with tuning.trials: every, or secure_rng: false");
  }
  const auto stream = util::stream_seed(file_seed(root), util::SeedStream::kTuningTrials);
  auto source = util::RandomSource::seeded(stream);
  if (tuning.trials == TrialCount::kEvery) return draws(keys, count, "draw", stream, source);
  std::int64_t k = 0;
  if (tuning.trials == TrialCount::kPoisson) {
    k = tuning::sample_poisson(tuning.mean, source);
  } else {
    k = tuning::TruncatedNegativeBinomial{tuning.eta, tuning.gamma}.sample(source);
  }
  return draws(keys, k, "trial", stream, source);
}

}  // namespace

SweepPlan read_sweep(YAML::Node& root, const std::string& file) {
  SweepPlan plan;
  plan.points.emplace_back();
  if (!root.IsMap()) return plan;
  const YAML::Node tuning = YAML::Clone(root["tuning"]);
  const YAML::Node sweep = YAML::Clone(root["sweep"]);
  root.remove("tuning");
  root.remove("sweep");
  if (tuning && !tuning.IsNull()) {
    Section t(tuning, "tuning", file);
    plan.tuning = read_tuning(t);
  }
  Keys keys;
  std::string mode = "grid";
  std::int64_t count = 0;
  if (sweep && !sweep.IsNull()) {
    Section s(sweep, "sweep", file);
    s.read("mode", mode, "grid or random");
    if (mode != "grid" && mode != "random") s.fail(s.key("mode"), mode, "grid or random");
    s.read_int("draws", count, 0, "an integer >= 1 (with mode: random)");
    keys = read_keys(s.get("keys"), file);
    s.finish();
    if ((mode == "random") != (count > 0)) {
      s.fail(s.key("draws"), std::to_string(count),
             "a number of points with mode: random, and nothing with mode: grid");
    }
  }
  const bool random_trials = plan.tuning.enabled && plan.tuning.trials != TrialCount::kEvery;
  if (random_trials && count > 0) {
    throw util::UserError(file +
                          ": sweep.draws: not used when tuning.trials is random (each "
                          "trial draws its own point); remove it and set sweep.mode: grid");
  }
  for (const auto& [key, values] : keys) plan.keys.push_back(key);
  if (random_trials || mode == "random") {
    plan.points = random_points(root, keys, plan.tuning, count, file);
  } else if (!keys.empty()) {
    plan.points = grid(keys);
  }
  plan.tuning.drawn_trials = static_cast<std::int64_t>(plan.points.size());
  return plan;
}

}  // namespace dpsgd::config
