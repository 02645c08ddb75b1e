#include "dpsgd/config/sections.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"

namespace dpsgd::config {

namespace {

// Upper bounds far beyond any model this program builds; they keep the layer
// sizes (base_filters doubled per U-Net level, num_classes output channels)
// far from int64 overflow and from allocations that can only fail.
constexpr std::int64_t kMaxClasses = 1000000;
constexpr std::int64_t kMaxBaseFilters = 4096;

}  // namespace

void read_model_section(Section& top, ExperimentConfig& c) {
  Section model(top.get("model"), "model", top.file());
  auto& o = c.model.options;
  model.read_name("name", c.model.name, models::model_registry());
  model.read_int("num_classes", o.num_classes, 2, kMaxClasses, "an integer in [2, 1000000]");
  model.read_int("base_filters", o.base_filters, 1, kMaxBaseFilters, "an integer in [1, 4096]");
  model.read_int("norm_groups", o.norm_groups, 1, "an integer >= 1 dividing base_filters");
  if (o.base_filters % o.norm_groups != 0) {
    model.fail(model.key("norm_groups"), std::to_string(o.norm_groups),
               "a divisor of model.base_filters (" + std::to_string(o.base_filters) + ")");
  }
  model.read("zero_init", o.zero_init, "true or false");
  model.finish();
}

}  // namespace dpsgd::config
