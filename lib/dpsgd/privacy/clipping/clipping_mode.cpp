#include "dpsgd/privacy/clipping/clipping_mode.hpp"

namespace dpsgd::privacy {

double read_max_grad_norm(util::OptionReader& reader, double fallback) {
  double c = fallback;
  reader.read_double(
      "max_grad_norm", c, [](double v) { return v > 0; }, "a number > 0");
  return c;
}

}  // namespace dpsgd::privacy
