#include "dpsgd/config/config_json.hpp"

#include <yaml-cpp/yaml.h>

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

nlohmann::json run_config_json(const ExperimentConfig& c, double sigma) {
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
  nlohmann::json privacy = {{"enabled", c.privacy.enabled}};
  if (c.privacy.enabled) {
    privacy["engine"] = c.privacy.engine;
    privacy["clipping"] = {{"mode", c.privacy.clipping.mode},
                           {"max_grad_norm", c.privacy.clipping.max_grad_norm}};
    privacy["noise_multiplier"] = sigma;
    privacy["delta"] = c.privacy.delta;
    privacy["accountant"] = c.privacy.accountant;
    privacy["rdp_conversion"] =
        c.privacy.rdp_conversion == RdpConversionChoice::kClassic ? "classic" : "improved";
  }
  nlohmann::json data = {
      {"name", c.data.name}, {"train_size", c.data.train_size}, {"test_size", c.data.test_size}};
  if (!c.data.root.empty()) data["root"] = c.data.root;
  return {
      {"name", c.name},
      {"seed", c.seed},
      {"device", device_name(c.device)},
      {"data", data},
      {"model", {{"name", c.model.name}, {"num_classes", c.model.options.num_classes}}},
      {"train",
       {{"epochs", c.train.epochs},
        {"batch_size", c.train.batch_size},
        {"physical_batch_size", c.train.physical_batch_size},
        {"eval_batch_size", c.train.eval_batch_size},
        {"sampling", c.train.poisson_sampling ? "poisson" : "shuffle"},
        {"optimizer", optimizer}}},
      {"privacy", privacy},
      {"output", {{"flush_every_s", c.train.flush_every_s}, {"log_every_s", c.train.log_every_s}}},
  };
}

std::string json_to_yaml(const nlohmann::json& document) {
  YAML::Emitter out;
  emit(out, document);
  return std::string(out.c_str()) + "\n";
}

}  // namespace dpsgd::config
