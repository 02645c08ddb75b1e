#include "dpsgd/privacy/clipping/per_layer_clipper.hpp"

#include <stdexcept>

#include "dpsgd/privacy/clipping/layer_thresholds.hpp"

namespace dpsgd::privacy {

PerLayerClipper::PerLayerClipper(NormGroups groups, std::vector<double> thresholds)
    : groups_(std::move(groups)),
      thresholds_(std::move(thresholds)),
      sensitivity_(root_sum_squares(thresholds_)) {
  if (static_cast<std::int64_t>(thresholds_.size()) != groups_.size()) {
    throw std::invalid_argument("per-layer clipping: one threshold per layer is needed");
  }
}

torch::Tensor PerLayerClipper::factors(const torch::Tensor& sq_norms) const {
  const auto norms = groups_.group(sq_norms).sqrt();  // (B, L)
  const auto c = torch::tensor(thresholds_, norms.options());
  // C_l / 0 = inf clamps to 1: a zero layer gradient is left as it is.
  return groups_.expand((c / norms).clamp_max(1.0));
}

ClippingMode per_layer_clipping_mode() {
  return {{"max_grad_norm", "layer_max_grad_norms"}, [](util::OptionReader& reader) {
            ClippingSpec spec;
            const double c = read_max_grad_norm(reader);
            const auto layers = read_layer_thresholds(reader, /*always_per_layer=*/true);
            spec.max_grad_norm = c;
            spec.echo = {{"max_grad_norm", c}};
            echo_layer_thresholds(layers, /*per_layer_is_key=*/false, spec.echo);
            spec.make = [c, layers](const PrivateModel& model,
                                    const ClippingRunFacts&) -> std::shared_ptr<Clipper> {
              return make_norm_clipper(c, layers, model);
            };
            return spec;
          }};
}

}  // namespace dpsgd::privacy
