#include <algorithm>
#include <stdexcept>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/config/sections.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/per_example/engine_choice.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::config {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A key that belongs to another mode is an error naming the modes it applies
// to, not silently ignored: a researcher who sets gamma under mode flat has a
// wrong idea of the run. Keys of no mode are left to Section::finish().
void refuse_other_modes_keys(Section& clip, const std::string& mode,
                             const std::vector<std::string>& own_keys) {
  const auto& registry = privacy::clipper_registry();
  for (const auto& k : clip.given_keys()) {
    if (k == "mode" || contains(own_keys, k)) continue;
    std::string owners;
    for (const auto& other : registry.names()) {
      if (contains(registry.get(other).keys, k)) owners += (owners.empty() ? "" : ", ") + other;
    }
    if (owners.empty()) continue;  // a key of no mode: Section::finish() names it
    if (clip.given_as_null(k)) {
      (void)clip.get(k);  // another mode's key, removed with null: accepted
      continue;
    }
    clip.fail(clip.key(k), render(clip.get(k)),
              "no value: it applies only to mode " + owners + " (mode is '" + mode + "')");
  }
}

// privacy.clipping: the mode reads its own keys (privacy/clipping/*).
privacy::ClippingSpec read_clipping(Section& priv) {
  Section clip(priv.get("clipping"), "privacy.clipping", priv.file());
  const auto& registry = privacy::clipper_registry();
  std::string mode = "flat";
  clip.read_name("mode", mode, registry);
  const auto& entry = registry.get(mode);
  refuse_other_modes_keys(clip, mode, entry.keys);
  SectionReader reader(clip);
  auto spec = entry.read(reader);
  spec.mode = mode;
  spec.echo["mode"] = mode;
  clip.finish();
  return spec;
}

// The engine against the clipping mode and microbatches, by the one rule that
// the engines and the bench also use.
void check_engine(const Section& priv, const PrivacyConfig& p) {
  try {
    (void)privacy::choose_engine(p.engine, p.clipping.needs, p.microbatches);
  } catch (const std::invalid_argument& e) {
    const bool count = p.clipping.needs.per_example_count && p.microbatches > 0;
    const std::string key = count ? "microbatches" : "engine";
    const std::string value = count ? std::to_string(p.microbatches) : p.engine;
    throw util::UserError(priv.file() + ": " + priv.key(key) + ": '" + value +
                          "' is invalid with clipping mode '" + p.clipping.mode + "': " + e.what());
  }
}

}  // namespace

void read_privacy_section(Section& top, ExperimentConfig& c) {
  Section priv(top.get("privacy"), "privacy", top.file());
  auto& p = c.privacy;
  priv.read("enabled", p.enabled, "true or false");
  priv.read_name("engine", p.engine, privacy::engine_registry());
  priv.read_double(
      "delta", p.delta, [](double v) { return v > 0 && v < 1; }, "a number in (0, 1)");
  priv.read_name("accountant", p.accountant, accounting::accountant_registry());
  std::string conversion = "improved";
  priv.read("rdp_conversion", conversion, "improved or classic");
  try {
    p.accountant_options.rdp_conversion = accounting::parse_rdp_conversion(conversion);
  } catch (const std::invalid_argument&) {
    priv.fail(priv.key("rdp_conversion"), conversion, "improved or classic");
  }
  p.clipping = read_clipping(priv);
  priv.read_int("microbatches", p.microbatches, 0, "an integer >= 0 (0: off)");
  if (priv.has("secure_noise")) {
    // Renamed, not aliased: the old key covered only the noise, and a config
    // that still says it must not be read as if it meant the sampler too.
    throw util::UserError(priv.file() + ": " + priv.key("secure_noise") +
                          ": this key was replaced by privacy.secure_rng, which draws the "
                          "Poisson sampling, the noise and every other privacy-relevant draw "
                          "from the OS CSPRNG; write 'secure_rng: true' (or false) instead");
  }
  priv.read("secure_rng", p.secure_rng, "true or false");
  double max_epsilon = -1.0;
  priv.read_double(
      "max_epsilon", max_epsilon, [](double v) { return v > 0; }, "a number > 0");
  if (max_epsilon > 0) p.max_epsilon = max_epsilon;
  check_engine(priv, p);
  priv.read_number_list(
      "noise_multiplier", p.noise_multipliers, [](double v) { return v >= 0; },
      "a number >= 0 or a non-empty list of them");
  priv.read_number_list(
      "target_epsilon", p.target_epsilons, [](double v) { return v > 0; },
      "a number > 0 or a non-empty list of them");
  priv.finish();
}

}  // namespace dpsgd::config
