#include "tests/helpers/private_step.hpp"

#include <algorithm>

#include "dpsgd/accounting/rdp_accountant.hpp"
#include "dpsgd/privacy/clipping/clipper_registry.hpp"

namespace dpsgd::test {

privacy::DpGradientOptions dp_options(double sigma, std::int64_t expected_batch,
                                      std::int64_t physical, const std::string& engine,
                                      std::int64_t microbatches, std::uint64_t seed) {
  privacy::DpGradientOptions o;
  o.noise_multiplier = sigma;
  o.expected_batch_size = expected_batch;
  o.dataset_size = std::max<std::int64_t>(1000, expected_batch);
  o.physical_batch_size = physical;
  o.microbatches = microbatches;
  o.engine = engine;
  o.seed = seed;
  return o;
}

std::unique_ptr<privacy::DpGradient> make_dp(const privacy::PrivateModel& model,
                                             std::shared_ptr<const models::Objective> objective,
                                             std::shared_ptr<privacy::Clipper> clipper,
                                             const privacy::DpGradientOptions& options,
                                             std::uint64_t noise_seed) {
  return std::make_unique<privacy::DpGradient>(model, std::move(objective), std::move(clipper),
                                               privacy::GaussianNoise(noise_seed, torch::kCPU),
                                               std::make_unique<accounting::RdpAccountant>(),
                                               options);
}

std::shared_ptr<privacy::Clipper> make_clipper(const std::string& mode,
                                               const nlohmann::json& options,
                                               const privacy::PrivateModel& model,
                                               double expected_batch, double sigma) {
  privacy::ClippingRunFacts facts;
  facts.expected_batch_size = expected_batch;
  facts.noise_multiplier = sigma;
  facts.steps_per_epoch = 4;
  facts.epochs = 3;
  facts.run_seed = 77;
  return privacy::make_clipping_spec(mode, options).make(model, facts);
}

}  // namespace dpsgd::test
