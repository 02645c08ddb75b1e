#include "dpsgd/experiment/dp_gradient_builder.hpp"

#include <stdexcept>

#include "dpsgd/accounting/accountant_registry.hpp"
#include "dpsgd/train/trainer.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/random_source.hpp"
#include "dpsgd/util/seeds.hpp"

namespace dpsgd::experiment {
namespace {

std::shared_ptr<privacy::Clipper> build_clipper(const config::ExperimentConfig& c,
                                                const privacy::PrivateModel& checked,
                                                const DpGradientRequest& request) {
  privacy::ClippingRunFacts facts;
  facts.expected_batch_size = static_cast<double>(c.train.batch_size);
  facts.noise_multiplier = request.sigma;
  facts.steps_per_epoch = train::steps_per_epoch(request.train_size, c.train.batch_size);
  facts.epochs = c.train.epochs;
  facts.run_seed = c.seed;
  facts.secure_rng = c.privacy.secure_rng;
  try {
    return c.privacy.clipping.make(checked, facts);
  } catch (const std::invalid_argument& e) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.clipping (mode '",
                                    c.privacy.clipping.mode, "'): ", e.what()));
  }
}

}  // namespace

std::unique_ptr<privacy::DpGradient> build_dp_gradient(
    const config::ExperimentConfig& c, models::Model& model,
    std::shared_ptr<const models::Objective> objective, const DpGradientRequest& request,
    const torch::Device& device) {
  auto checked = privacy::inspect_model(model);
  auto clipper = build_clipper(c, checked, request);
  privacy::DpGradientOptions options;
  options.noise_multiplier = request.sigma;
  options.expected_batch_size = c.train.batch_size;
  options.dataset_size = request.train_size;
  options.physical_batch_size = c.train.physical_batch_size;
  options.microbatches = c.privacy.microbatches;
  options.engine = request.engine;
  options.seed = util::stream_seed(c.seed, util::SeedStream::kMicrobatchAssignment);
  options.secure_rng = c.privacy.secure_rng;
  options.views = c.train.augment_multiplicity;
  options.precision = c.train.precision;
  privacy::GaussianNoise noise(
      util::stream_source(c.seed, util::SeedStream::kNoise, c.privacy.secure_rng, device));
  auto accountant =
      accounting::accountant_registry().get(c.privacy.accountant)(c.privacy.accountant_options);
  try {
    return std::make_unique<privacy::DpGradient>(std::move(checked), std::move(objective),
                                                 std::move(clipper), std::move(noise),
                                                 std::move(accountant), options);
  } catch (const std::invalid_argument& e) {
    throw util::UserError(util::cat(c.source.string(), ": privacy.engine '", request.engine,
                                    "' with clipping mode '", c.privacy.clipping.mode,
                                    "': ", e.what()));
  }
}

}  // namespace dpsgd::experiment
