#include "tests/helpers/clipping_reference.hpp"

#include <algorithm>
#include <cmath>

#include "dpsgd/models/objectives/objective.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "tests/helpers/private_step.hpp"

namespace dpsgd::test {

models::ModelPtr small_model(std::uint64_t seed) {
  torch::manual_seed(seed);
  auto model = models::model_registry().get("tanh_cnn")(models::ModelOptions{});
  model->to(torch::kFloat64);
  return model;
}

Batch random_batch(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::rand({n, 1, 28, 28}, torch::kFloat64) * 2.0,
          torch::randint(0, 10, {n}, torch::kInt64)};
}

// One plain-autograd gradient per example (no taps, no engines).
std::vector<Grads> explicit_grads(models::Model& model, const privacy::PrivateModel& pm,
                                  const Batch& b) {
  models::CrossEntropyObjective objective;
  std::vector<Grads> out;
  for (std::int64_t i = 0; i < b.x.size(0); ++i) {
    const auto loss =
        objective.per_example_loss(model.forward(b.x.narrow(0, i, 1)), b.y.narrow(0, i, 1)).sum();
    auto g = torch::autograd::grad({loss}, pm.params);
    for (auto& t : g) t = t.detach();
    out.push_back(g);
  }
  return out;
}

double sq_norm(const Grads& g, const std::vector<std::size_t>& which) {
  double s = 0.0;
  for (auto k : which) s += g[k].pow(2).sum().item<double>();
  return s;
}

std::vector<std::size_t> all_params(const privacy::PrivateModel& pm) {
  std::vector<std::size_t> v(pm.num_params());
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = k;
  return v;
}

std::vector<std::vector<std::size_t>> layer_params(const privacy::PrivateModel& pm) {
  std::vector<std::vector<std::size_t>> v(pm.layers.size());
  for (std::size_t k = 0; k < pm.num_params(); ++k) v[pm.param_layer[k]].push_back(k);
  return v;
}

// sum_i of per-example gradients scaled group by group by the rule: the reference.
Grads reference_sum(const privacy::PrivateModel& pm, std::vector<Grads> grads, Rule rule,
                    bool per_layer, const std::vector<double>& thresholds, double gamma,
                    const Grads* masks) {
  const auto groups =
      per_layer ? layer_params(pm) : std::vector<std::vector<std::size_t>>{all_params(pm)};
  Grads sum;
  for (const auto& p : pm.params) sum.push_back(torch::zeros_like(p));
  for (auto& g : grads) {
    if (masks != nullptr) {
      for (std::size_t k = 0; k < g.size(); ++k) g[k] = g[k] * (*masks)[k];
    }
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      const double n = std::sqrt(sq_norm(g, groups[gi]));
      const double c = thresholds[gi];
      double f = 1.0;
      if (rule == Rule::kClip) f = n > 0 ? std::min(1.0, c / n) : 1.0;
      if (rule == Rule::kAutoS) f = c / (n + gamma);
      if (rule == Rule::kAutoV) f = n > 0 ? c / n : 0.0;
      for (auto k : groups[gi]) sum[k] += f * g[k];
    }
  }
  return sum;
}

// The privatised gradient with sigma = 0 and expected batch size 1, i.e. the
// pre-noise clipped sum, through DpGradient (chunked, to cover chunking too).
Grads dp_sum(const privacy::PrivateModel& pm, std::shared_ptr<privacy::Clipper> clipper,
             const std::string& engine, const Batch& b, std::int64_t microbatches) {
  auto objective = std::make_shared<models::CrossEntropyObjective>();
  auto dp = make_dp(pm, objective, std::move(clipper), dp_options(0.0, 1, 3, engine, microbatches));
  dp->compute(b.x, b.y);
  Grads out;
  for (const auto& p : pm.params) out.push_back(p.grad().detach().clone());
  return out;
}

double max_rel_error(const Grads& a, const Grads& b) {
  double worst = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double scale = std::max(1e-12, b[k].abs().max().item<double>());
    worst = std::max(worst, (a[k] - b[k]).abs().max().item<double>() / scale);
  }
  return worst;
}

double distance(const Grads& a, const Grads& b) {
  double s = 0.0;
  for (std::size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]).pow(2).sum().item<double>();
  return std::sqrt(s);
}

// Median whole-model norm of the batch, so thresholds clip about half.
double median_norm(const privacy::PrivateModel& pm, const std::vector<Grads>& grads) {
  std::vector<double> n;
  for (const auto& g : grads) n.push_back(std::sqrt(sq_norm(g, all_params(pm))));
  std::sort(n.begin(), n.end());
  return n[n.size() / 2];
}

}  // namespace dpsgd::test
