#include "dpsgd/train/nonprivate_gradient.hpp"

namespace dpsgd::train {

BatchSums nonprivate_gradient(models::Model& model, const models::Objective& objective,
                              const torch::Tensor& x, const torch::Tensor& y,
                              std::int64_t physical_batch_size, util::PhaseClock* clock,
                              util::Precision precision) {
  const std::int64_t drawn = x.size(0);
  const std::int64_t chunk =
      physical_batch_size > 0 ? physical_batch_size : std::max<std::int64_t>(1, drawn);
  // Summed on the device; one host sync per step, at the end.
  torch::Tensor loss_sum = torch::zeros({}, x.options().dtype(torch::kFloat64));
  torch::Tensor score_sum = loss_sum.clone();
  for (std::int64_t start = 0; start < drawn; start += chunk) {
    const std::int64_t m = std::min(chunk, drawn - start);
    const auto yc = y.narrow(0, start, m);
    torch::Tensor losses;
    torch::Tensor output;
    {
      util::PhaseScope scope(clock, "forward");
      util::AutocastScope autocast(precision, x.device());
      output = model.forward(x.narrow(0, start, m));
      losses = objective.per_example_loss(output, yc);
    }
    {
      util::PhaseScope scope(clock, "backward");
      (losses.sum() / static_cast<double>(drawn)).backward();
    }
    torch::NoGradGuard no_grad;
    loss_sum += losses.detach().sum().to(torch::kFloat64);
    score_sum += objective.per_example_score(output.detach(), yc).sum().to(torch::kFloat64);
  }
  return {loss_sum.item<double>(), score_sum.item<double>()};
}

}  // namespace dpsgd::train
