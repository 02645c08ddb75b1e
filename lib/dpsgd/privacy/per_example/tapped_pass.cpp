#include "dpsgd/privacy/per_example/tapped_pass.hpp"

namespace dpsgd::privacy {

TappedPassResult tapped_pass(const EngineContext& context, ActivationCapture& capture,
                             const torch::Tensor& x, const torch::Tensor& y, PhaseClock* clock) {
  capture.clear();
  torch::Tensor losses;
  torch::Tensor scores;
  {
    PhaseScope scope(clock, "forward");
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
    losses.sum().backward();
  }
  return {losses.detach(), scores};
}

}  // namespace dpsgd::privacy
