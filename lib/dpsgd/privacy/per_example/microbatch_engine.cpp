// TF-Privacy-style microbatches (the `num_microbatches` of its DP optimizers):
// the batch is split into m microbatches, the *mean* gradient of each is clipped
// as one unit, and the noisy sum is divided by m. DpGradient assigns each
// sampled example to a microbatch uniformly at random and calls accumulate()
// once per non-empty microbatch; this engine does one forward and one backward
// on it. Sensitivity (add/remove one example): the assignments of the other
// examples do not depend on the added one, so exactly one microbatch changes,
// and its clipped mean moves by at most 2C (from one vector of norm <= C to
// another; by C if it was empty). DpGradient scales the noise by that doubled
// sensitivity, as TF Privacy's accounting now does for microbatching.
// Per-example statistics are the microbatch's, repeated for each member.
#include "dpsgd/privacy/per_example/clip_whole_gradient.hpp"
#include "dpsgd/privacy/per_example/gradient_engine.hpp"

namespace dpsgd::privacy {
namespace {

class MicrobatchEngine final : public GradientEngine {
 public:
  explicit MicrobatchEngine(const EngineContext& context) : context_(context) {}
  [[nodiscard]] std::string name() const override { return "microbatch"; }

  ChunkStats accumulate(const torch::Tensor& x, const torch::Tensor& y,
                        std::vector<torch::Tensor>& sums, PhaseClock* clock) override {
    const auto& pm = *context_.model;
    const std::int64_t n = x.size(0);
    if (n == 0) return {};
    std::vector<torch::Tensor> grads;
    torch::Tensor losses;
    torch::Tensor scores;
    {
      PhaseScope scope(clock, "forward");
      torch::Tensor loss;
      {
        util::AutocastScope autocast(context_.precision, x.device());
        const auto out = pm.model->forward(x);
        loss = context_.objective->per_example_loss(out, y);
        torch::NoGradGuard no_grad;
        scores = context_.objective->per_example_score(out.detach(), y);
      }
      losses = loss.detach();
      PhaseScope back(clock, "backward");
      grads = torch::autograd::grad({loss.mean()}, pm.params, /*grad_outputs=*/{},
                                    /*retain_graph=*/false, /*create_graph=*/false,
                                    /*allow_unused=*/true);
    }
    torch::NoGradGuard no_grad;
    PhaseScope scope(clock, "clip_sum");
    const auto clipped = clip_and_add(*context_.clipper, pm.params, grads, sums);
    return {losses, scores, clipped.sq_norms.sum(1).sqrt().expand({n}),
            clipped.factors.expand({n, -1})};
  }

 private:
  EngineContext context_;
};

}  // namespace

std::unique_ptr<GradientEngine> make_microbatch_engine(const EngineContext& context) {
  return std::make_unique<MicrobatchEngine>(context);
}

}  // namespace dpsgd::privacy
