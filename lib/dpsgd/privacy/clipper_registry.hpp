#pragma once
// Clipper registry, keyed by YAML `privacy.clipping.mode`.
#include <functional>
#include <memory>

#include "dpsgd/privacy/clipper.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::privacy {

struct ClippingOptions {
  double max_grad_norm = 1.0;
};

using ClipperFactory = std::function<std::shared_ptr<const Clipper>(const ClippingOptions&)>;
using ClipperRegistry = util::Registry<ClipperFactory>;

void register_builtin_clippers(ClipperRegistry& registry);
const ClipperRegistry& clipper_registry();

}  // namespace dpsgd::privacy
