#pragma once
// Shared test helpers for building private steps and clippers without a config.
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/dp_gradient.hpp"
#include "dpsgd/privacy/private_model.hpp"

namespace dpsgd::test {

/// Options of a private step: sigma, expected batch size q N, physical chunk,
/// engine (registry key or auto), microbatches; N = max(1000, q N).
privacy::DpGradientOptions dp_options(double sigma, std::int64_t expected_batch,
                                      std::int64_t physical, const std::string& engine,
                                      std::int64_t microbatches = 0, std::uint64_t seed = 0);

/// A private step with seeded noise (`noise_seed`) and an RDP accountant.
std::unique_ptr<privacy::DpGradient> make_dp(const privacy::PrivateModel& model,
                                             std::shared_ptr<const models::Objective> objective,
                                             std::shared_ptr<privacy::Clipper> clipper,
                                             const privacy::DpGradientOptions& options,
                                             std::uint64_t noise_seed = 0);

/// The clipper of `mode` with `options` (the mode's YAML keys as JSON) for `model`;
/// run facts: 4 steps per epoch, 3 epochs, seed 77.
std::shared_ptr<privacy::Clipper> make_clipper(const std::string& mode,
                                               const nlohmann::json& options,
                                               const privacy::PrivateModel& model,
                                               double expected_batch = 8.0, double sigma = 0.0);

}  // namespace dpsgd::test
