#include "dpsgd/config/yaml_section.hpp"

#include <cmath>

#include "dpsgd/util/error.hpp"

namespace dpsgd::config {

std::string render(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

Section::Section(const YAML::Node& node, std::string path, const std::string& file)
    : node_(node), path_(std::move(path)), file_(file) {
  if (node_ && !node_.IsNull() && !node_.IsMap()) {
    fail(path_.empty() ? "(top level)" : path_, render(node_), "a mapping of keys");
  }
}

void Section::fail(const std::string& key, const std::string& value,
                   const std::string& expected) const {
  throw util::UserError(file_ + ": " + key + ": '" + value + "' is invalid: expected " + expected);
}

std::string Section::key(const std::string& k) const { return path_.empty() ? k : path_ + "." + k; }

std::vector<std::string> Section::given_keys() const {
  std::vector<std::string> out;
  if (!node_ || !node_.IsMap()) return out;
  for (const auto& kv : node_) out.push_back(kv.first.as<std::string>());
  return out;
}

bool Section::given_as_null(const std::string& k) const {
  if (!node_ || !node_.IsMap()) return false;
  const YAML::Node& map = node_;  // const access never inserts the key
  const auto value = map[k];
  return value && value.IsNull();
}

YAML::Node Section::get(const std::string& k) {
  seen_.insert(k);
  if (!node_ || !node_.IsMap()) return YAML::Node();
  const YAML::Node& map = node_;  // const access never inserts the key
  return map[k];
}

bool Section::has(const std::string& k) {
  const auto n = get(k);
  return n && !n.IsNull();
}

void Section::read_int(const std::string& k, std::int64_t& out, std::int64_t min_value,
                       const std::string& expected) {
  read(k, out, expected);
  if (out < min_value) fail(key(k), std::to_string(out), expected);
}

void Section::read_int(const std::string& k, std::int64_t& out, std::int64_t min_value,
                       std::int64_t max_value, const std::string& expected) {
  read_int(k, out, min_value, expected);
  if (out > max_value) fail(key(k), std::to_string(out), expected);
}

void Section::read_double(const std::string& k, double& out, const std::function<bool(double)>& ok,
                          const std::string& expected) {
  const auto n = get(k);
  if (!n || n.IsNull()) return;
  double v = 0;
  if (!n.IsScalar()) fail(key(k), render(n), expected);
  try {
    v = n.as<double>();
  } catch (const YAML::Exception&) {
    fail(key(k), render(n), expected);
  }
  if (!std::isfinite(v) || !ok(v)) fail(key(k), n.Scalar(), expected);
  out = v;
}

void Section::read_number_list(const std::string& k, std::vector<double>& out,
                               const std::function<bool(double)>& ok, const std::string& expected) {
  const auto node = get(k);
  auto one = [&](const YAML::Node& n) {
    double v = -1;
    if (!n.IsScalar()) fail(key(k), render(node), expected);
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      fail(key(k), render(n), expected);
    }
    if (!std::isfinite(v) || !ok(v)) fail(key(k), render(n), expected);
    out.push_back(v);
  };
  if (node && node.IsSequence()) {
    if (node.size() == 0) fail(key(k), "[]", expected);
    for (const auto& item : node) one(item);
  } else if (node && !node.IsNull()) {
    one(node);
  }
}

void Section::finish() const {
  if (!node_ || !node_.IsMap()) return;
  for (const auto& kv : node_) {
    const auto k = kv.first.as<std::string>();
    if (seen_.count(k) == 0) {
      std::string valid;
      for (const auto& s : seen_) valid += (valid.empty() ? "" : ", ") + s;
      throw util::UserError(file_ + ": unknown key '" + key(k) + "'" +
                            (path_.empty() ? "" : " in section '" + path_ + "'") +
                            "; valid keys here: " + valid);
    }
  }
}

void SectionReader::read_bool(const std::string& key, bool& out) {
  section_.read(key, out, "true or false");
}

void SectionReader::read_string(const std::string& key, std::string& out,
                                const std::string& expected) {
  section_.read(key, out, expected);
}

void SectionReader::read_int(const std::string& key, std::int64_t& out, std::int64_t min_value,
                             const std::string& expected) {
  section_.read_int(key, out, min_value, expected);
}

void SectionReader::read_double(const std::string& key, double& out,
                                const std::function<bool(double)>& ok,
                                const std::string& expected) {
  section_.read_double(key, out, ok, expected);
}

void SectionReader::read_double_list(const std::string& key, std::vector<double>& out,
                                     const std::function<bool(double)>& ok,
                                     const std::string& expected) {
  const auto node = section_.get(key);
  if (!node || node.IsNull()) return;
  if (!node.IsSequence() || node.size() == 0)
    section_.fail(section_.key(key), render(node), expected);
  std::vector<double> values;
  section_.read_number_list(key, values, ok, expected);
  out = std::move(values);
}

void SectionReader::reject(const std::string& key, const std::string& expected) {
  section_.fail(section_.key(key), render(section_.get(key)), expected);
}

}  // namespace dpsgd::config
