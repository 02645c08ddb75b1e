#pragma once
// The explicit reference for clipping tests: per-example gradients by plain
// autograd, one example at a time (no taps, no engines), scaled group by group
// by the clipping rule, and the private step's pre-noise clipped sum to compare.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dpsgd/models/model.hpp"
#include "dpsgd/privacy/clipping/clipper.hpp"
#include "dpsgd/privacy/private_model.hpp"

namespace dpsgd::test {

using Grads = std::vector<torch::Tensor>;

struct Batch {
  torch::Tensor x;
  torch::Tensor y;
};

/// The tanh CNN in float64, initialised from `seed`.
models::ModelPtr small_model(std::uint64_t seed);
/// n random 28x28 float64 images in [0, 2) with random labels.
Batch random_batch(std::int64_t n, std::uint64_t seed);
/// One plain-autograd gradient per example (cross-entropy).
std::vector<Grads> explicit_grads(models::Model& model, const privacy::PrivateModel& pm,
                                  const Batch& b);
/// Squared norm of the parameters `which` of g.
double sq_norm(const Grads& g, const std::vector<std::size_t>& which);
std::vector<std::size_t> all_params(const privacy::PrivateModel& pm);
std::vector<std::vector<std::size_t>> layer_params(const privacy::PrivateModel& pm);

enum class Rule { kClip, kAutoS, kAutoV };

/// sum_i of per-example gradients scaled group by group by the rule (groups: the
/// whole model, or one per layer), after optional coordinate masks.
Grads reference_sum(const privacy::PrivateModel& pm, std::vector<Grads> grads, Rule rule,
                    bool per_layer, const std::vector<double>& thresholds, double gamma,
                    const Grads* masks);
/// The private step's gradient with sigma = 0 and expected batch size 1, i.e. the
/// pre-noise clipped sum (chunked by 3, to cover chunking too).
Grads dp_sum(const privacy::PrivateModel& pm, std::shared_ptr<privacy::Clipper> clipper,
             const std::string& engine, const Batch& b, std::int64_t microbatches = 0);
double max_rel_error(const Grads& a, const Grads& b);
double distance(const Grads& a, const Grads& b);
/// Median whole-model norm of the batch, so thresholds clip about half.
double median_norm(const privacy::PrivateModel& pm, const std::vector<Grads>& grads);

}  // namespace dpsgd::test
