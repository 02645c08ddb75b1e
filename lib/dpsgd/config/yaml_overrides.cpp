#include "dpsgd/config/yaml_overrides.hpp"

#include <sstream>
#include <vector>

#include "dpsgd/config/yaml_strict.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::config {

void apply_override(YAML::Node& root, const std::string& assignment, const std::string& file) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw util::UserError("--set '" + assignment + "': expected KEY=VALUE, e.g. train.epochs=3");
  }
  const std::string path = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (text.find_first_not_of(" \t") == std::string::npos) {
    // An empty value is usually a shell variable that expanded to nothing; it
    // would silently mean null (the default), so it must be spelled out.
    throw util::UserError("--set '" + assignment + "': the value is empty; write " + path +
                          "=null to remove the key (use its default), or " + path +
                          "=\"\" for an empty string");
  }
  const YAML::Node value = load_yaml_strict(text, "--set '" + assignment + "'");
  set_path(root, path, value, "--set '" + assignment + "'", file);
}

void set_path(YAML::Node& root, const std::string& path, const YAML::Node& value,
              const std::string& context, const std::string& file) {
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  // yaml-cpp nodes are handles: walk by reassignment so nested maps are created in place.
  std::vector<YAML::Node> chain{root};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node next = chain.back()[parts[i]];
    if (next && !next.IsNull() && !next.IsMap()) {
      throw util::UserError(context + ": '" + parts[i] + "' in " + file + " is not a section");
    }
    if (!next || next.IsNull()) {
      chain.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[parts[i]];
    }
    chain.push_back(next);
  }
  chain.back()[parts.back()] = value;
}

}  // namespace dpsgd::config
