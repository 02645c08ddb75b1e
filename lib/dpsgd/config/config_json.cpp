#include "dpsgd/config/config_json.hpp"

#include <yaml-cpp/yaml.h>

#include "dpsgd/util/utf8.hpp"

namespace dpsgd::config {
namespace {

const char* device_name(DeviceChoice d) {
  switch (d) {
    case DeviceChoice::kCpu:
      return "cpu";
    case DeviceChoice::kCuda:
      return "cuda";
    case DeviceChoice::kAuto:
      break;
  }
  return "auto";
}

void emit(YAML::Emitter& out, const nlohmann::json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [k, v] : j.items()) {
      out << YAML::Key << k << YAML::Value;
      emit(out, v);
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : j) emit(out, v);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    out << j.get<std::string>();
  } else if (j.is_boolean()) {
    out << j.get<bool>();
  } else if (j.is_number_integer()) {
    out << j.get<std::int64_t>();
  } else if (j.is_number()) {
    out << j.get<double>();
  } else {
    out << YAML::Null;
  }
}

}  // namespace

namespace {

nlohmann::json optimizer_json(const ExperimentConfig& c) {
  const auto& o = c.optimizer_options;
  nlohmann::json optimizer = {
      {"name", c.optimizer}, {"lr", o.lr}, {"weight_decay", o.weight_decay}};
  if (c.optimizer == "sgd") {
    optimizer["momentum"] = o.momentum;
    optimizer["nesterov"] = o.nesterov;
  } else {
    optimizer["beta1"] = o.beta1;
    optimizer["beta2"] = o.beta2;
    optimizer["eps"] = o.eps;
  }
  const auto& so = c.lr_schedule_options;
  nlohmann::json schedule = {{"name", c.lr_schedule}, {"warmup_epochs", so.warmup_epochs}};
  if (c.lr_schedule == "step") {
    schedule["step_epochs"] = so.step_epochs;
    schedule["gamma"] = so.gamma;
  } else if (c.lr_schedule == "cosine") {
    schedule["min_lr_fraction"] = so.min_lr_fraction;
  }
  optimizer["schedule"] = schedule;
  return optimizer;
}

nlohmann::json privacy_json(const ExperimentConfig& c, double sigma) {
  nlohmann::json privacy = {{"enabled", c.privacy.enabled}};
  if (!c.privacy.enabled) return privacy;
  privacy["engine"] = c.privacy.engine;
  privacy["clipping"] = c.privacy.clipping.echo;  // only the mode's keys: it reads back
  privacy["microbatches"] = c.privacy.microbatches;
  privacy["secure_rng"] = c.privacy.secure_rng;
  privacy["noise_multiplier"] = sigma;
  privacy["delta"] = c.privacy.delta;
  if (c.privacy.max_epsilon) privacy["max_epsilon"] = *c.privacy.max_epsilon;
  privacy["accountant"] = c.privacy.accountant;
  privacy["rdp_conversion"] = accounting::to_string(c.privacy.accountant_options.rdp_conversion);
  return privacy;
}

nlohmann::json data_json(const ExperimentConfig& c) {
  nlohmann::json data = {
      {"name", c.data.name},           {"train_size", c.data.train_size},
      {"val_size", c.data.val_size},   {"val_from_train", c.data.val_from_train},
      {"test_size", c.data.test_size}, {"augment", {{"hflip", c.train.augment_hflip}}}};
  if (c.train.augment_multiplicity > 1) {
    data["augment"]["multiplicity"] = c.train.augment_multiplicity;
  }
  if (c.train.augment_crop_padding > 0) {
    data["augment"]["crop_padding"] = c.train.augment_crop_padding;
  }
  // A path is any bytes; JSON needs UTF-8 (dump throws otherwise).
  if (!c.data.root.empty()) data["root"] = util::valid_utf8(c.data.root);
  if (c.data.name == "segmentation_folder" || c.data.name == "image_folder") {
    const auto& seg = c.data.segmentation;
    data["image_size"] = {seg.image_size[0], seg.image_size[1]};
    data["mean"] = seg.mean;
    data["std"] = seg.std;
    if (c.data.name == "segmentation_folder") {
      nlohmann::json label_map = nlohmann::json::object();
      for (const auto& [from, to] : seg.label_map) label_map[std::to_string(from)] = to;
      data["label_map"] = label_map;
    }
  }
  return data;
}

nlohmann::json loss_json(const ExperimentConfig& c) {
  nlohmann::json loss = {{"name", c.loss.name}};
  if (c.loss.name != "cross_entropy") {
    loss["ce_weight"] = c.loss.options.ce_weight;
    loss["dice_weight"] = c.loss.options.dice_weight;
    if (!c.loss.options.score_classes.empty()) loss["score_classes"] = c.loss.options.score_classes;
  }
  return loss;
}

nlohmann::json features_json(const ExperimentConfig& c) {
  const auto& f = c.features;
  nlohmann::json out = {{"extractor", f.extractor}};
  if (!f.enabled()) return out;
  if (f.extractor == "scatternet")
    out["scatternet"] = {{"J", f.scatternet.J}, {"L", f.scatternet.L}};
  if (f.extractor == "torchscript") {
    const auto& t = f.torchscript;
    out["torchscript"] = {{"file", util::valid_utf8(t.file.string())},
                          {"file_hash", t.file_hash},
                          {"output", t.output},
                          {"repeat_channels", t.repeat_channels},
                          {"resize", t.resize}};
    if (!t.mean.empty()) out["torchscript"]["mean"] = t.mean;
    if (!t.std.empty()) out["torchscript"]["std"] = t.std;
  }
  if (f.extractor == "model") {
    out["model"] = {{"run", util::valid_utf8(f.model.run.string())},
                    {"model_hash", f.model.model_hash},
                    {"declare_public", f.model.declare_public}};
  }
  const bool group_norm = f.normalisation == features::Normalisation::kGroupNorm;
  out["normalisation"] = group_norm ? "group_norm" : "none";
  if (group_norm) out["groups"] = f.groups;
  if (!f.cache_dir.empty()) out["cache_dir"] = util::valid_utf8(f.cache_dir.string());
  out["batch_size"] = f.batch_size;
  return out;
}

nlohmann::json head_json(const ExperimentConfig& c) {
  const auto& h = c.head;
  if (h.method == HeadMethod::kDpSgd) return {{"method", "dp_sgd"}};
  nlohmann::json out = {{"method", h.method == HeadMethod::kDpLs ? "dp_ls" : "dp_fc"},
                        {"clip_norm", h.clip_norm},
                        {"ridge", h.ridge},
                        {"budget_share", h.budget_share},
                        {"fit_bias", h.fit_bias}};
  if (h.method == HeadMethod::kDpLs) {
    if (h.class_weight_alpha) out["class_weight_alpha"] = *h.class_weight_alpha;
  } else {
    out["steps"] = h.steps;
    out["lr"] = h.lr;
    out["gradient_clip_norm"] = h.gradient_clip_norm;
  }
  return out;
}

// Keys added with the CIFAR recipe (issue 17) appear only when they are used,
// so run folders written before them still compare equal on resume.
nlohmann::json model_json(const ExperimentConfig& c) {
  const auto& o = c.model.options;
  nlohmann::json model = {{"name", c.model.name},
                          {"num_classes", o.num_classes},
                          {"base_filters", o.base_filters},
                          {"norm_groups", o.norm_groups},
                          {"zero_init", o.zero_init}};
  if (c.model.name == "wide_resnet") {
    model["depth"] = o.depth;
    model["width"] = o.width;
  }
  if (c.model.name == "wide_resnet" || c.model.name == "resnet20") {
    model["weight_standardisation"] = o.weight_standardisation;
  }
  if (c.model.name == "mlp" || c.model.name == "filter_bank_head") model["hidden"] = o.hidden;
  if (c.model.name == "filter_bank_head") model["scales"] = o.scales;
  if (o.block == models::BlockKind::kSeparable) model["block"] = "separable";
  return model;
}

nlohmann::json train_json(const ExperimentConfig& c) {
  nlohmann::json train = {
      {"epochs", c.train.epochs},
      {"batch_size", c.train.batch_size},
      {"physical_batch_size", c.train.physical_batch_size},
      {"eval_batch_size", c.train.eval_batch_size},
      {"sampling", c.train.sampling == data::Sampling::kPoisson ? "poisson" : "shuffle"},
      {"divergence_steps", c.train.divergence_steps},
      {"loss", loss_json(c)},
      {"optimizer", optimizer_json(c)}};
  if (c.train.precision != util::Precision::kFloat32) {
    train["precision"] = util::precision_name(c.train.precision);
  }
  if (c.train.ema_decay > 0.0) {
    train["ema"] = {{"decay", c.train.ema_decay}, {"warmup", c.train.ema_warmup}};
  }
  return train;
}

}  // namespace

nlohmann::json run_config_json(const ExperimentConfig& c, double sigma) {
  return {
      {"name", util::valid_utf8(c.name)},
      {"seed", c.seed},
      {"device", device_name(c.device)},
      {"data", data_json(c)},
      {"features", features_json(c)},
      {"head", head_json(c)},
      {"model", model_json(c)},
      {"train", train_json(c)},
      {"privacy", privacy_json(c, sigma)},
      {"output",
       {{"flush_every_s", c.train.flush_every_s},
        {"log_every_s", c.train.log_every_s},
        {"checkpoint_every_s", c.train.checkpoint_every_s},
        {"unprotected_columns", c.train.unprotected_columns}}},
  };
}

std::string json_to_yaml(const nlohmann::json& document) {
  YAML::Emitter out;
  emit(out, document);
  return std::string(out.c_str()) + "\n";
}

}  // namespace dpsgd::config
