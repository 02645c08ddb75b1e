// The exact per-example loop: one forward and one backward per example with
// plain autograd, no taps. Slow and obviously right; every other engine is
// tested against it. With K views per example, one forward/backward of the
// example's K views and the mean of their losses.
#include "dpsgd/privacy/per_example/clip_whole_gradient.hpp"
#include "dpsgd/privacy/per_example/gradient_engine.hpp"

namespace dpsgd::privacy {
namespace {

class LoopEngine final : public GradientEngine {
 public:
  explicit LoopEngine(const EngineContext& context) : context_(context) {}
  [[nodiscard]] std::string name() const override { return "loop"; }

  ChunkStats accumulate(const torch::Tensor& x, const torch::Tensor& y,
                        std::vector<torch::Tensor>& sums, PhaseClock* clock) override {
    const auto& pm = *context_.model;
    const std::int64_t views = context_.views;
    const std::int64_t batch = x.size(0) / views;
    std::vector<torch::Tensor> losses;
    std::vector<torch::Tensor> scores;
    std::vector<torch::Tensor> all_sq;
    std::vector<torch::Tensor> all_factors;
    for (std::int64_t i = 0; i < batch; ++i) {
      // Example i: its K views (one row without augmentation multiplicity),
      // whose mean loss is the example's loss.
      const auto xi = x.narrow(0, i * views, views);
      const auto yi = y.narrow(0, i * views, views);
      std::vector<torch::Tensor> grads;
      {
        PhaseScope scope(clock, "forward");
        torch::Tensor loss;
        {
          util::AutocastScope autocast(context_.precision, x.device());
          const auto out = pm.model->forward(xi);
          loss = context_.objective->per_example_loss(out, yi).mean(0, /*keepdim=*/true);
          torch::NoGradGuard no_grad;
          scores.push_back(
              context_.objective->per_example_score(out.detach(), yi).mean(0, /*keepdim=*/true));
        }
        losses.push_back(loss.detach());
        PhaseScope back(clock, "backward");
        grads = torch::autograd::grad({loss.sum()}, pm.params, /*grad_outputs=*/{},
                                      /*retain_graph=*/false, /*create_graph=*/false,
                                      /*allow_unused=*/true);
      }
      torch::NoGradGuard no_grad;
      PhaseScope scope(clock, "clip_sum");
      const auto clipped = clip_and_add(*context_.clipper, pm.params, grads, sums);
      all_sq.push_back(clipped.sq_norms);
      all_factors.push_back(clipped.factors);
    }
    if (batch == 0) return {};
    const auto sq_norms = torch::cat(all_sq, 0);
    return {torch::cat(losses), torch::cat(scores), sq_norms.sum(1).sqrt(),
            torch::cat(all_factors, 0)};
  }

 private:
  EngineContext context_;
};

}  // namespace

void apply_coordinate_mask(const Clipper& clipper, std::size_t k, torch::Tensor& grad) {
  const auto* masks = clipper.coordinate_masks();
  if (masks != nullptr) grad.mul_((*masks)[k].to(grad.scalar_type()));
}

std::unique_ptr<GradientEngine> make_loop_engine(const EngineContext& context) {
  return std::make_unique<LoopEngine>(context);
}

}  // namespace dpsgd::privacy
