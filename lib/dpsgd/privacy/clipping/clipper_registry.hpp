#pragma once
// Clipping-mode registry, keyed by YAML `privacy.clipping.mode`. Each entry is a
// ClippingMode (clipping_mode.hpp): the keys the mode owns, and the reader that
// turns them into a ClippingSpec, which makes the clipper once the model is known.
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/privacy/clipping/clipping_mode.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::privacy {

using ClipperRegistry = util::Registry<ClippingMode>;

/// One line per mode; each mode is one file pair (the clipper and its mode).
void register_builtin_clippers(ClipperRegistry& registry);
const ClipperRegistry& clipper_registry();

/// The spec of `mode` with the given options (a JSON object of the mode's keys),
/// for code and tests that build a run without a YAML file; throws
/// std::invalid_argument on an unknown key or a bad value.
ClippingSpec make_clipping_spec(const std::string& mode,
                                const nlohmann::json& options = nlohmann::json::object());

}  // namespace dpsgd::privacy
