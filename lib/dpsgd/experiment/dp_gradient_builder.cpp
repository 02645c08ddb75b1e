#include "dpsgd/experiment/dp_gradient_builder.hpp"

#include <stdexcept>

#include "dpsgd/privacy/clipping/clipper_registry.hpp"
#include "dpsgd/privacy/per_example/engine_registry.hpp"
#include "dpsgd/train/trainer.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/seeds.hpp"

namespace dpsgd::experiment {
std::unique_ptr<privacy::DpGradient> build_dp_gradient(
    const config::ExperimentConfig& c, models::Model& model,
    std::shared_ptr<const models::Objective> objective, const DpGradientRequest& request,
    const torch::Device& device) {
  auto checked = privacy::inspect_model(model);
  privacy::ClippingRunFacts facts;
  facts.expected_batch_size = static_cast<double>(c.train.batch_size);
  facts.noise_multiplier = request.sigma;
  facts.steps_per_epoch = train::steps_per_epoch(request.train_size, c.train.batch_size);
  facts.epochs = c.train.epochs;
  facts.seed = util::stream_seed(c.seed, util::SeedStream::kClipper);
  std::shared_ptr<privacy::Clipper> clipper;
  try {
    clipper = privacy::clipper_registry().get(c.privacy.clipping.mode)(c.privacy.clipping.options,
                                                                       checked, facts);
  } catch (const std::invalid_argument& e) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.clipping (mode '",
                                    c.privacy.clipping.mode, "'): ", e.what()));
  }
  privacy::DpGradientOptions options;
  options.noise_multiplier = request.sigma;
  options.expected_batch_size = c.train.batch_size;
  options.physical_batch_size = c.train.physical_batch_size;
  options.microbatches = c.privacy.microbatches;
  options.seed = util::stream_seed(c.seed, util::SeedStream::kMicrobatchAssignment);
  auto noise = c.privacy.secure_noise ? privacy::GaussianNoise::secure()
                                      : privacy::GaussianNoise(
                                            util::stream_seed(c.seed, util::SeedStream::kNoise), device);
  try {
    return std::make_unique<privacy::DpGradient>(
        std::move(checked), std::move(objective), std::move(clipper),
        privacy::engine_registry().get(request.engine), std::move(noise), options);
  } catch (const std::invalid_argument& e) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.engine '", request.engine,
                                    "' with clipping mode '", c.privacy.clipping.mode,
                                    "': ", e.what()));
  }
}

}  // namespace dpsgd::experiment
