#include <string>
#include <vector>

#include "dpsgd/config/sections.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"

namespace dpsgd::config {

namespace {

// Upper bounds far beyond any model this program builds; they keep the layer
// sizes (base_filters doubled per U-Net level, num_classes output channels,
// WRN widths 64 k, MLP widths) far from int64 overflow and from allocations
// that can only fail.
constexpr std::int64_t kMaxClasses = 1000000;
constexpr std::int64_t kMaxBaseFilters = 4096;
constexpr std::int64_t kMaxDepth = 1000;
constexpr std::int64_t kMaxWidth = 64;
constexpr std::int64_t kMaxHidden = 1000000;

// GroupNorm needs norm_groups to divide every normalised layer's channels. The
// U-Nets' narrowest level has base_filters channels; the CIFAR ResNets' has 16
// (wider layers are multiples of it, which their constructors check too).
void check_norm_groups(const Section& model, const ModelConfig& m) {
  const auto groups = m.options.norm_groups;
  if (m.name == "unet" || m.name == "nested_unet") {
    if (m.options.base_filters % groups != 0) {
      model.fail(model.key("norm_groups"), std::to_string(groups),
                 "a divisor of model.base_filters (" + std::to_string(m.options.base_filters) +
                     ") for model.name " + m.name);
    }
  } else if (m.name == "wide_resnet" || m.name == "resnet20") {
    if (16 % groups != 0) {
      model.fail(model.key("norm_groups"), std::to_string(groups),
                 "a divisor of 16 (the first stage's channels) for model.name " + m.name +
                     ": 1, 2, 4, 8 or 16");
    }
  }
}

// d = 6 n + 4 (Zagoruyko & Komodakis 2016): n blocks of two convolutions per stage.
void read_depth(Section& model, std::int64_t& depth) {
  const std::string expected =
      "an integer in [10, 1000] with depth - 4 divisible by 6 (10, 16, 22, 28, 40, ...)";
  model.read_int("depth", depth, 10, kMaxDepth, expected);
  if ((depth - 4) % 6 != 0) model.fail(model.key("depth"), std::to_string(depth), expected);
}

// A YAML list of numbers of type T, each accepted by `valid`; an empty list only
// when `allow_empty`. Absent or null keeps `out`.
template <typename T, typename Valid>
void read_list(Section& model, const char* key, bool allow_empty, Valid valid,
               const std::string& expected, std::vector<T>& out) {
  const auto node = model.get(key);
  if (!node || node.IsNull()) return;
  if (!node.IsSequence() || (!allow_empty && node.size() == 0)) {
    model.fail(model.key(key), render(node), expected);
  }
  std::vector<T> values;
  for (const auto& item : node) {
    T v{};
    bool ok = item.IsScalar();
    if (ok) {
      try {
        v = item.as<T>();
      } catch (const YAML::Exception&) {
        ok = false;
      }
    }
    if (!ok || !valid(v)) model.fail(model.key(key), render(item), expected);
    values.push_back(v);
  }
  out = std::move(values);
}

// A list (possibly empty: no hidden layer) of widths; the default stays when absent.
void read_hidden(Section& model, std::vector<std::int64_t>& hidden) {
  read_list(
      model, "hidden", /*allow_empty=*/true,
      [](std::int64_t w) { return w >= 1 && w <= kMaxHidden; },
      "a list of integers in [1, 1000000], the hidden layers' widths (e.g. [512, 256]; [] "
      "for none)",
      hidden);
}

// Keys a model does not read are an error, not silently ignored (as data keys).
void check_applies(Section& model, const std::string& name) {
  const auto wrn = name == "wide_resnet";
  const auto resnet = wrn || name == "resnet20";
  const auto unets = name == "unet" || name == "nested_unet";
  const auto bank = name == "filter_bank_head";
  const std::vector<std::pair<const char*, bool>> keys = {{"depth", wrn},
                                                          {"width", wrn},
                                                          {"weight_standardisation", resnet},
                                                          {"hidden", name == "mlp" || bank},
                                                          {"block", unets},
                                                          {"scales", bank}};
  for (const auto& [key, applies] : keys) {
    if (model.has(key) && !applies) {
      model.fail(model.key(key), render(model.get(key)),
                 std::string("no value: it does not apply to model.name '") + name +
                     "' (depth, width: wide_resnet; weight_standardisation: wide_resnet, "
                     "resnet20; hidden: mlp, filter_bank_head; block: unet, nested_unet; scales: "
                     "filter_bank_head)");
    }
  }
}

void read_block(Section& model, models::BlockKind& block) {
  std::string name = "standard";
  model.read("block", name, "standard or separable");
  if (name != "standard" && name != "separable") {
    model.fail(model.key("block"), name, "standard or separable");
  }
  block = name == "separable" ? models::BlockKind::kSeparable : models::BlockKind::kStandard;
}

// A non-empty list of Gaussian scales in pixels, each in (0, 1000].
void read_scales(Section& model, std::vector<double>& scales) {
  read_list(
      model, "scales", /*allow_empty=*/false, [](double v) { return v > 0.0 && v <= 1000.0; },
      "a non-empty list of numbers in (0, 1000] (pixels, e.g. [1, 2, 4])", scales);
}

}  // namespace

void read_model_section(Section& top, ExperimentConfig& c) {
  Section model(top.get("model"), "model", top.file());
  auto& o = c.model.options;
  model.read_name("name", c.model.name, models::model_registry());
  model.read_int("num_classes", o.num_classes, 2, kMaxClasses, "an integer in [2, 1000000]");
  model.read_int("base_filters", o.base_filters, 1, kMaxBaseFilters, "an integer in [1, 4096]");
  model.read_int("norm_groups", o.norm_groups, 1,
                 "an integer >= 1 dividing every normalised layer's channels "
                 "(model.base_filters for the U-Nets, 16 for wide_resnet and resnet20)");
  check_norm_groups(model, c.model);
  check_applies(model, c.model.name);
  read_depth(model, o.depth);
  model.read_int("width", o.width, 1, kMaxWidth, "an integer in [1, 64]");
  model.read("weight_standardisation", o.weight_standardisation, "true or false");
  // The filter-bank head is small by design: one hidden layer of 32 unless set
  // (ModelOptions' {512, 256} is the mlp's default; code that builds a
  // filter_bank_head without YAML sets hidden itself).
  if (c.model.name == "filter_bank_head") o.hidden = {32};
  read_hidden(model, o.hidden);
  read_block(model, o.block);
  read_scales(model, o.scales);
  model.read("zero_init", o.zero_init, "true or false");
  model.finish();
}

}  // namespace dpsgd::config
