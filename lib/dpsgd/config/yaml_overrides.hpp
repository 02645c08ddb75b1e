#pragma once
// Dotted-key settings applied to a YAML tree before it is read: `--set KEY=VALUE`
// (the value parsed as YAML) and the settings of a `variants:` entry. They go
// through exactly the same checks as the file's own keys.
#include <string>

#include <yaml-cpp/yaml.h>

namespace dpsgd::config {

/// Sets the dotted `path` of `root` to `value`, creating sections on the way;
/// `context` names the source of the setting in errors.
void set_path(YAML::Node& root, const std::string& path, const YAML::Node& value,
              const std::string& context, const std::string& file);

/// Applies one `KEY=VALUE` assignment (util::UserError when malformed).
void apply_override(YAML::Node& root, const std::string& assignment, const std::string& file);

}  // namespace dpsgd::config
