#include "dpsgd/privacy/layer_rule.hpp"

#include <stdexcept>

#include "dpsgd/privacy/conv2d_rule.hpp"
#include "dpsgd/privacy/linear_rule.hpp"

namespace dpsgd::privacy {

const LayerRule& rule_for(models::LayerKind kind) {
  static const LinearRule linear;
  static const Conv2dRule conv2d;
  switch (kind) {
    case models::LayerKind::kLinear:
      return linear;
    case models::LayerKind::kConv2d:
      return conv2d;
  }
  throw std::logic_error("no per-example rule for this layer kind");
}

}  // namespace dpsgd::privacy
