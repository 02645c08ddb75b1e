#pragma once
// Loading YAML text strictly. yaml-cpp accepts, without a word, three things
// that silently change what a config means:
//   - a key given twice in one mapping (lookups find the first value, so a block
//     appended to override an earlier one is ignored),
//   - a second document after `---` (YAML::Load reads only the first),
//   - a quoted scalar left open at the end of the text (it runs to the end).
// load_yaml_strict refuses all three with a util::UserError naming the source,
// the key and the line(s), so the file and every --set value mean what they say.
#include <string>

#include <yaml-cpp/yaml.h>

namespace dpsgd::config {

/// The single document of `text` (a null node for an empty text). `source`
/// names the text in messages (a file name, or "--set 'k=v'").
YAML::Node load_yaml_strict(const std::string& text, const std::string& source);

}  // namespace dpsgd::config
