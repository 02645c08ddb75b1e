#include "dpsgd/features/trained_model_extractor.hpp"

#include <stdexcept>

#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/util/content_hash.hpp"
#include "dpsgd/util/state_file.hpp"

namespace dpsgd::features {

TrainedModelExtractor::TrainedModelExtractor(const TrainedModelSettings& settings,
                                             const std::vector<std::int64_t>& example_shape,
                                             const torch::Device& device)
    : settings_(settings) {
  const auto file = settings.run / "model.pt";
  if (!std::filesystem::exists(file)) {
    throw std::runtime_error(file.string() +
                             ": not found; features.model.run must be the folder of a completed "
                             "run (config.yaml and model.pt)");
  }
  auto options = settings.options;
  if (example_shape.size() == 3) {
    options.in_channels = example_shape[0];
    options.image_size = example_shape[1];
  }
  options.in_features = 1;
  for (const auto d : example_shape) options.in_features *= d;
  model_ = models::model_registry().get(settings.model_name)(options);
  try {
    train::load_model_tensors(*model_, util::load_tensor_dict(file));
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(file.string() + ": does not fit model '" + settings.model_name +
                             "' for inputs of this data set: " + e.what());
  }
  model_->to(device);
  model_->eval();
  file_hash_ = util::ContentHash().add_file(file).hex();
}

torch::Tensor TrainedModelExtractor::extract(const torch::Tensor& inputs) {
  torch::NoGradGuard no_grad;
  return model_->penultimate(inputs).flatten(1).contiguous();
}

nlohmann::json TrainedModelExtractor::fingerprint() const {
  return {{"extractor", "model"},
          {"model", settings_.model_name},
          {"model_file_hash", file_hash_},
          {"version", 1}};
}

std::string TrainedModelExtractor::provenance() const {
  return "penultimate layer of model '" + settings_.model_name + "' from run " +
         settings_.run.string() + " (model.pt content hash " + file_hash_ +
         "), trained on data declared public: " + settings_.trained_on.dump();
}

}  // namespace dpsgd::features
