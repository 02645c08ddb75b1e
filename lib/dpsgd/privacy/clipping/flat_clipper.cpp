#include "dpsgd/privacy/clipping/flat_clipper.hpp"

#include <cmath>
#include <stdexcept>

namespace dpsgd::privacy {

FlatClipper::FlatClipper(double max_grad_norm) : max_grad_norm_(max_grad_norm) {
  if (!(max_grad_norm > 0.0) || !std::isfinite(max_grad_norm)) {
    throw std::invalid_argument("flat clipping needs a finite max_grad_norm > 0");
  }
}

torch::Tensor FlatClipper::factors(const torch::Tensor& sq_norms) const {
  const auto norms = sq_norms.sum(1, /*keepdim=*/true).sqrt();
  // C / 0 = inf clamps to 1: a zero gradient is left as it is.
  return (max_grad_norm_ / norms).clamp_max(1.0).expand_as(sq_norms);
}

ClippingMode flat_clipping_mode() {
  return {{"max_grad_norm"}, [](util::OptionReader& reader) {
            ClippingSpec spec;
            const double c = read_max_grad_norm(reader);
            spec.max_grad_norm = c;
            spec.echo = {{"max_grad_norm", c}};
            spec.make = [c](const PrivateModel&, const ClippingRunFacts&) {
              return std::make_shared<FlatClipper>(c);
            };
            return spec;
          }};
}

}  // namespace dpsgd::privacy
