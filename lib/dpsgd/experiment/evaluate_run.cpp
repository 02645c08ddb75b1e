#include "dpsgd/experiment/evaluate_run.hpp"

#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/experiment/experiment_plan.hpp"
#include "dpsgd/experiment/run_experiment.hpp"
#include "dpsgd/experiment/run_one.hpp"
#include "dpsgd/experiment/task_setup.hpp"
#include "dpsgd/models/zoo/model_registry.hpp"
#include "dpsgd/train/model_state.hpp"
#include "dpsgd/train/trainer.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include "dpsgd/util/state_file.hpp"

namespace dpsgd::experiment {

nlohmann::json evaluate_run(const EvaluateRequest& request) {
  const auto& dir = request.run_dir;
  for (const auto& file : {dir / "config.yaml", model_path(dir)}) {
    if (!std::filesystem::exists(file)) {
      throw util::UserError(util::cat(file.string(),
                                      ": not found; evaluate needs a run folder "
                                      "of a completed run (config.yaml, model.pt)"));
    }
  }
  if (request.split != "test" && request.split != "val") {
    throw util::UserError("--split: '" + request.split + "' is invalid; use test or val");
  }
  const auto c = config::load_experiment_variants(dir / "config.yaml", request.overrides).front();
  const auto device = resolve_device(request.device.value_or(c.device), request.device_index);
  const auto data = load_data(c, device);
  const auto& split = request.split == "test" ? data.test : data.val;
  if (split.size() == 0) {
    throw util::UserError(util::cat(dir.string(), ": data '", c.data.name, "' has no '",
                                    request.split, "' split; use --split test"));
  }
  auto model = models::model_registry().get(c.model.name)(model_options_for(c, data.train));
  model->to(device);
  try {
    train::load_model_tensors(*model, util::load_tensor_dict(model_path(dir)));
  } catch (const std::runtime_error& e) {
    throw util::UserError(util::cat(model_path(dir).string(), ": does not fit the model of ",
                                    (dir / "config.yaml").string(), ": ", e.what()));
  }
  const auto objective = build_objective(c, data.train, data.val, data.test);
  auto out = train::evaluate(*model, *objective, split, c.train.eval_batch_size);
  out["split"] = request.split;
  out["run_dir"] = dir.string();
  return out;
}

}  // namespace dpsgd::experiment
