#include "dpsgd/privacy/clipping/automatic_clipper.hpp"

#include <cmath>
#include <stdexcept>

#include "dpsgd/privacy/clipping/layer_thresholds.hpp"

namespace dpsgd::privacy {

AutomaticClipper::AutomaticClipper(AutomaticVariant variant, double gamma, NormGroups groups,
                                   std::vector<double> thresholds)
    : variant_(variant),
      gamma_(gamma),
      groups_(std::move(groups)),
      thresholds_(std::move(thresholds)),
      sensitivity_(root_sum_squares(thresholds_)) {
  if (variant_ == AutomaticVariant::kS && (!(gamma_ > 0.0) || !std::isfinite(gamma_))) {
    throw std::invalid_argument("AUTO-S needs a finite gamma > 0");
  }
  if (variant_ == AutomaticVariant::kV && gamma_ != 0.0) {
    throw std::invalid_argument("AUTO-V has no gamma (it is AUTO-S with gamma = 0)");
  }
  if (static_cast<std::int64_t>(thresholds_.size()) != groups_.size()) {
    throw std::invalid_argument("automatic clipping: one threshold per group is needed");
  }
}

torch::Tensor AutomaticClipper::factors(const torch::Tensor& sq_norms) const {
  const auto norms = groups_.group(sq_norms).sqrt();  // (B, G)
  const auto c = torch::tensor(thresholds_, norms.options());
  if (variant_ == AutomaticVariant::kS) return groups_.expand(c / (norms + gamma_));
  // AUTO-V: C/||g||; a zero gradient has no direction, and 0 keeps it at 0
  // (C/0 = inf would turn 0 * inf into NaN).
  return groups_.expand(torch::where(norms > 0, c / norms, torch::zeros_like(norms)));
}

namespace {

struct AutomaticOptions {
  LayerThresholdOptions layers;
  AutomaticVariant variant = AutomaticVariant::kS;
  double gamma = 0.01;
};

AutomaticOptions read_automatic(util::OptionReader& reader) {
  AutomaticOptions o;
  o.layers = read_layer_thresholds(reader, /*always_per_layer=*/false);
  std::string variant = "s";
  reader.read_string("variant", variant, "s or v (AUTO-S or AUTO-V)");
  if (variant == "v") {
    o.variant = AutomaticVariant::kV;
  } else if (variant != "s") {
    reader.reject("variant", "s or v (AUTO-S or AUTO-V)");
  }
  if (o.variant == AutomaticVariant::kV && reader.has("gamma")) {
    reader.reject("gamma", "no value with variant v (AUTO-V is gamma = 0)");
  }
  reader.read_double(
      "gamma", o.gamma, [](double v) { return v > 0; }, "a number > 0");
  return o;
}

}  // namespace

ClippingMode automatic_clipping_mode() {
  return {{"max_grad_norm", "per_layer", "layer_max_grad_norms", "variant", "gamma"},
          [](util::OptionReader& reader) {
            ClippingSpec spec;
            const double c = read_max_grad_norm(reader);
            const auto o = read_automatic(reader);
            spec.max_grad_norm = c;
            spec.echo = {{"max_grad_norm", c}};
            echo_layer_thresholds(o.layers, /*per_layer_is_key=*/true, spec.echo);
            const bool v = o.variant == AutomaticVariant::kV;
            spec.echo["variant"] = v ? "v" : "s";
            if (!v) spec.echo["gamma"] = o.gamma;
            spec.make = [c, o](const PrivateModel& model,
                               const ClippingRunFacts&) -> std::shared_ptr<Clipper> {
              auto groups = o.layers.per_layer ? NormGroups::per_layer(model)
                                               : NormGroups::whole_model(model.num_params());
              auto thresholds = group_thresholds(c, o.layers.layer_max_grad_norms, groups.size());
              const double gamma = o.variant == AutomaticVariant::kV ? 0.0 : o.gamma;
              return std::make_shared<AutomaticClipper>(o.variant, gamma, std::move(groups),
                                                        std::move(thresholds));
            };
            return spec;
          }};
}

}  // namespace dpsgd::privacy
