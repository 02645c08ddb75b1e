#include "dpsgd/privacy/per_example/tapped_pass.hpp"

#include "dpsgd/util/autocast.hpp"

namespace dpsgd::privacy {

torch::Tensor group_mean(const torch::Tensor& rows, std::int64_t views) {
  if (views == 1) return rows;
  return rows.view({rows.size(0) / views, views})
      .to(torch::kFloat64)
      .mean(1)
      .to(rows.scalar_type());
}

TappedPassResult tapped_pass(const EngineContext& context, ActivationCapture& capture,
                             const torch::Tensor& x, const torch::Tensor& y, PhaseClock* clock) {
  capture.clear();
  torch::Tensor losses;
  torch::Tensor scores;
  {
    PhaseScope scope(clock, "forward");
    util::AutocastScope autocast(context.precision, x.device());
    const auto output = context.model->model->forward(x);
    losses = context.objective->per_example_loss(output, y);
    {
      torch::NoGradGuard no_grad;
      scores = context.objective->per_example_score(output.detach(), y);
    }
  }
  {
    PhaseScope scope(clock, "backward");
    // The sum's gradient w.r.t. each layer output holds every example's own
    // output gradient in its row: examples do not interact (no BatchNorm).
    // With K views per example the rows carry 1/K: an example's gradient is
    // then the sum of its rows', the mean over its views.
    const auto k = static_cast<double>(context.views);
    (context.views > 1 ? losses.sum() / k : losses.sum()).backward();
  }
  return {group_mean(losses.detach(), context.views), group_mean(scores, context.views)};
}

}  // namespace dpsgd::privacy
