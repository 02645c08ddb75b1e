#include <cmath>
#include <string>
#include <vector>

#include "dpsgd/config/sections.hpp"

namespace dpsgd::config {
namespace {

const char* const kMethods = "dp_sgd, dp_ls or dp_fc";

HeadMethod read_method(Section& head) {
  std::string name = "dp_sgd";
  head.read("method", name, kMethods);
  if (name == "dp_ls") return HeadMethod::kDpLs;
  if (name == "dp_fc") return HeadMethod::kDpFc;
  if (name != "dp_sgd") head.fail(head.key("method"), name, kMethods);
  return HeadMethod::kDpSgd;
}

// Keys that belong to other methods are refused by name, so a sweep that
// switches methods cannot carry a setting that silently does nothing.
void refuse_keys(Section& head, const std::vector<std::string>& keys, const std::string& why) {
  for (const auto& k : keys) {
    if (head.has(k)) head.fail(head.key(k), render(head.get(k)), "no value: " + why);
  }
}

}  // namespace

void read_head_section(Section& top, ExperimentConfig& c) {
  Section head(top.get("head"), "head", top.file());
  auto& h = c.head;
  h.method = read_method(head);
  const auto positive = [](double v) { return v > 0 && std::isfinite(v); };
  const auto non_negative = [](double v) { return v >= 0 && std::isfinite(v); };
  const std::vector<std::string> closed_form = {"clip_norm", "ridge", "budget_share", "fit_bias"};
  const std::vector<std::string> fc_only = {"steps", "lr", "gradient_clip_norm"};
  if (h.method == HeadMethod::kDpSgd) {
    refuse_keys(head, closed_form, "dp_sgd takes its settings from train: and privacy:");
    refuse_keys(head, fc_only, "dp_sgd takes its settings from train: and privacy:");
    refuse_keys(head, {"class_weight_alpha"}, "it applies to dp_ls only");
    head.finish();
    return;
  }
  head.read_double("clip_norm", h.clip_norm, positive, "a number > 0");
  head.read_double("ridge", h.ridge, non_negative, "a number >= 0");
  head.read_double(
      "budget_share", h.budget_share, [](double v) { return v > 0 && v < 1; },
      "a number in (0, 1)");
  head.read("fit_bias", h.fit_bias, "true or false");
  if (h.method == HeadMethod::kDpLs) {
    refuse_keys(head, fc_only, "it applies to dp_fc only");
    if (head.has("class_weight_alpha")) {
      double alpha = 0;
      head.read_double("class_weight_alpha", alpha, non_negative, "a number >= 0");
      h.class_weight_alpha = alpha;
    }
  } else {
    refuse_keys(head, {"class_weight_alpha"}, "it applies to dp_ls only");
    head.read_int("steps", h.steps, 1, 100000, "an integer in [1, 100000]");
    head.read_double("lr", h.lr, positive, "a number > 0");
    head.read_double("gradient_clip_norm", h.gradient_clip_norm, positive, "a number > 0");
    // The preconditioner (noisy covariance + ridge I) must be invertible: the PSD
    // projection can leave zero eigenvalues.
    if (h.ridge <= 0)
      head.fail(head.key("ridge"), std::to_string(h.ridge), "a number > 0 for dp_fc");
  }
  head.finish();
}

}  // namespace dpsgd::config
