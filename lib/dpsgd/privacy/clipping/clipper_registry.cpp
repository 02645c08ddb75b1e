#include "dpsgd/privacy/clipping/clipper_registry.hpp"

#include "dpsgd/privacy/clipping/adaptive_clipper.hpp"
#include "dpsgd/privacy/clipping/flat_clipper.hpp"
#include "dpsgd/privacy/clipping/per_layer_clipper.hpp"
#include "dpsgd/privacy/clipping/random_sparsification.hpp"

namespace dpsgd::privacy {
namespace {

NormGroups groups_for(bool per_layer, const PrivateModel& model) {
  return per_layer ? NormGroups::per_layer(model) : NormGroups::whole_model(model.num_params());
}

// Flat or per-layer min(1, C/||g||) clipping: the base of random sparsification.
std::unique_ptr<Clipper> norm_clipper(const ClippingOptions& o, const PrivateModel& model) {
  if (!o.per_layer) return std::make_unique<FlatClipper>(o.max_grad_norm);
  auto groups = NormGroups::per_layer(model);
  auto thresholds = group_thresholds(o.max_grad_norm, o.layer_max_grad_norms, groups.size());
  return std::make_unique<PerLayerClipper>(std::move(groups), std::move(thresholds));
}

}  // namespace

void register_builtin_clippers(ClipperRegistry& registry) {
  registry.add("flat", "min(1, C/||g_i||) over the whole model (Abadi et al. 2016)",
               [](const ClippingOptions& o, const PrivateModel&,
                  const ClippingRunFacts&) -> std::shared_ptr<Clipper> {
                 return std::make_shared<FlatClipper>(o.max_grad_norm);
               });
  registry.add("per_layer", "min(1, C_l/||g_il||) per layer, C_l = C/sqrt(L) or a list",
               [](const ClippingOptions& o, const PrivateModel& model,
                  const ClippingRunFacts&) -> std::shared_ptr<Clipper> {
                 ClippingOptions per_layer = o;
                 per_layer.per_layer = true;
                 return norm_clipper(per_layer, model);
               });
  registry.add("automatic", "AUTO-S/AUTO-V normalisation C/(||g_i|| + gamma) (Bu et al. 2022)",
               [](const ClippingOptions& o, const PrivateModel& model,
                  const ClippingRunFacts&) -> std::shared_ptr<Clipper> {
                 auto groups = groups_for(o.per_layer, model);
                 auto thresholds =
                     group_thresholds(o.max_grad_norm, o.layer_max_grad_norms, groups.size());
                 const double gamma = o.automatic_variant == AutomaticVariant::kV ? 0.0 : o.gamma;
                 return std::make_shared<AutomaticClipper>(
                     o.automatic_variant, gamma, std::move(groups), std::move(thresholds));
               });
  registry.add(
      "random_sparsification",
      "random coordinate mask before clipping, gradual cooling (Zhu & Blaschko 2023)",
      [](const ClippingOptions& o, const PrivateModel& model,
         const ClippingRunFacts& run) -> std::shared_ptr<Clipper> {
        SparsificationSchedule schedule{o.final_rate, o.refresh, run.steps_per_epoch, run.epochs};
        return std::make_shared<RandomSparsificationClipper>(norm_clipper(o, model), schedule,
                                                             model.params, run.seed);
      });
  registry.add("adaptive", "quantile-tracking threshold with a noisy count (Andrew et al. 2021)",
               [](const ClippingOptions& o, const PrivateModel&,
                  const ClippingRunFacts& run) -> std::shared_ptr<Clipper> {
                 AdaptiveClippingOptions a{o.max_grad_norm, o.target_quantile, o.quantile_lr,
                                           o.count_noise_std};
                 return std::make_shared<AdaptiveClipper>(a, run.expected_batch_size,
                                                          run.noise_multiplier);
               });
}

const ClipperRegistry& clipper_registry() {
  static const ClipperRegistry registry = [] {
    ClipperRegistry r("clipping mode");
    register_builtin_clippers(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::privacy
