#pragma once
// A model checked for DP training: every trainable parameter belongs to a layer
// with per-example gradient support, and no layer mixes examples of a batch
// (BatchNorm's batch statistics make one example's output depend on the others,
// so per-example gradients and the sensitivity bound no longer hold). Anything
// else is refused before training, naming the layer and the fix.
#include <string>
#include <vector>

#include "dpsgd/models/layers/layer_tap.hpp"
#include "dpsgd/models/model.hpp"

namespace dpsgd::privacy {

struct PrivateModel {
  models::Model* model = nullptr;
  std::vector<models::TappedLayer*> layers;    ///< in module-tree order
  std::vector<std::string> layer_names;        ///< module path, e.g. "conv1"
  std::vector<torch::Tensor> params;           ///< every layer's parameters, in order
  std::vector<std::string> param_names;        ///< e.g. "conv1.weight"
  std::vector<std::size_t> param_layer;        ///< layer index of each parameter
  std::vector<std::size_t> layer_first_param;  ///< index into params of each layer's first

  [[nodiscard]] std::size_t num_params() const { return params.size(); }
};

/// Inspects `model`; throws util::UserError for BatchNorm or unsupported trainable layers.
PrivateModel inspect_model(models::Model& model);

}  // namespace dpsgd::privacy
