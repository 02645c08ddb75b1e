#include "dpsgd/util/json_option_reader.hpp"

#include <cmath>
#include <stdexcept>

namespace dpsgd::util {

JsonOptionReader::JsonOptionReader(nlohmann::json object, std::string prefix)
    : object_(std::move(object)), prefix_(std::move(prefix)) {
  if (!object_.is_object()) throw std::invalid_argument(prefix_ + ": expected an object");
}

bool JsonOptionReader::has(const std::string& key) {
  return object_.contains(key) && !object_[key].is_null();
}

void JsonOptionReader::reject(const std::string& key, const std::string& expected) {
  const std::string value = object_.contains(key) ? object_[key].dump() : "(absent)";
  throw std::invalid_argument(prefix_ + "." + key + ": '" + value + "' is invalid: expected " +
                              expected);
}

void JsonOptionReader::read_bool(const std::string& key, bool& out) {
  if (!has(key)) return;
  if (!object_[key].is_boolean()) reject(key, "true or false");
  out = object_[key].get<bool>();
}

void JsonOptionReader::read_string(const std::string& key, std::string& out,
                                   const std::string& expected) {
  if (!has(key)) return;
  if (!object_[key].is_string()) reject(key, expected);
  out = object_[key].get<std::string>();
}

void JsonOptionReader::read_int(const std::string& key, std::int64_t& out, std::int64_t min_value,
                                const std::string& expected) {
  if (!has(key)) return;
  if (!object_[key].is_number_integer() || object_[key].get<std::int64_t>() < min_value) {
    reject(key, expected);
  }
  out = object_[key].get<std::int64_t>();
}

void JsonOptionReader::read_double(const std::string& key, double& out,
                                   const std::function<bool(double)>& ok,
                                   const std::string& expected) {
  if (!has(key)) return;
  if (!object_[key].is_number()) reject(key, expected);
  const double v = object_[key].get<double>();
  if (!std::isfinite(v) || !ok(v)) reject(key, expected);
  out = v;
}

void JsonOptionReader::read_double_list(const std::string& key, std::vector<double>& out,
                                        const std::function<bool(double)>& ok,
                                        const std::string& expected) {
  if (!has(key)) return;
  const auto& list = object_[key];
  if (!list.is_array() || list.empty()) reject(key, expected);
  std::vector<double> values;
  for (const auto& item : list) {
    if (!item.is_number() || !std::isfinite(item.get<double>()) || !ok(item.get<double>())) {
      reject(key, expected);
    }
    values.push_back(item.get<double>());
  }
  out = std::move(values);
}

}  // namespace dpsgd::util
