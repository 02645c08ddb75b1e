#pragma once
// The per-layer threshold options shared by the modes that can clip or normalise
// each layer separately (per_layer, automatic, random_sparsification):
//   per_layer: true|false           (per_layer mode: always true, not a key)
//   layer_max_grad_norms: [C_1..C_L] (only with per_layer; default C/sqrt(L) each,
//                                     so that sqrt(sum C_l^2) = C: the sensitivity)
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/private_model.hpp"
#include "dpsgd/util/option_reader.hpp"

namespace dpsgd::privacy {

struct LayerThresholdOptions {
  bool per_layer = false;
  std::vector<double> layer_max_grad_norms;  ///< empty: C / sqrt(L) each
};

/// Reads layer_max_grad_norms and, unless `always_per_layer`, the per_layer key.
LayerThresholdOptions read_layer_thresholds(util::OptionReader& reader, bool always_per_layer);

/// Adds the options to a mode's echo (`per_layer` only where it is a key).
void echo_layer_thresholds(const LayerThresholdOptions& options, bool per_layer_is_key,
                           nlohmann::json& echo);

/// min(1, C/||g_i||) over the whole model, or per layer with thresholds C_l:
/// the flat and per-layer clippers, and the base of random sparsification.
std::unique_ptr<Clipper> make_norm_clipper(double max_grad_norm,
                                           const LayerThresholdOptions& options,
                                           const PrivateModel& model);

}  // namespace dpsgd::privacy
