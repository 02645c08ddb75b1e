#include "dpsgd/config/yaml_strict.hpp"

#include <map>
#include <vector>

#include "dpsgd/config/yaml_section.hpp"
#include "dpsgd/util/error.hpp"

namespace dpsgd::config {
namespace {

using util::UserError;

// Deeper than any config; it also stops a walk through self-referencing aliases.
constexpr int kMaxDepth = 64;

std::string where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + " column " + std::to_string(mark.column + 1);
}

std::string key_text(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : render(key); }

// A quoted scalar starts at its mark with the quote character; yaml-cpp ends it
// at the end of the text when the closing quote is missing (if a newline
// follows). Whether the closing quote exists is decided by scanning the source
// with the quoting rules: '' inside single quotes, \x escapes inside double.
bool quote_closes(const std::string& text, std::size_t pos) {
  const char quote = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
        continue;
      }
      return true;
    }
  }
  return false;
}

class Checker {
 public:
  Checker(const std::string& text, const std::string& source) : text_(text), source_(source) {}

  void walk(const YAML::Node& node, const std::string& path, int depth) {
    if (depth > kMaxDepth) {
      throw UserError(source_ + ": " + path + ": nested more than " + std::to_string(kMaxDepth) +
                      " levels deep (a recursive alias?)");
    }
    if (node.IsScalar()) {
      check_quote(node, path);
    } else if (node.IsSequence()) {
      std::size_t i = 0;
      for (const auto& item : node) walk(item, path + "[" + std::to_string(i++) + "]", depth + 1);
    } else if (node.IsMap()) {
      walk_map(node, path, depth);
    }
  }

 private:
  void walk_map(const YAML::Node& map, const std::string& path, int depth) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : map) {
      if (kv.first.IsScalar()) check_quote(kv.first, path);
      const std::string key = key_text(kv.first);
      const std::string full = path.empty() ? key : path + "." + key;
      const auto [first, inserted] = seen.emplace(key, kv.first.Mark());
      if (!inserted) {
        const std::string a = where(first->second);
        const std::string b = where(kv.first.Mark());
        throw UserError(source_ + ": key '" + full + "' is given twice" +
                        (a.empty() || b.empty() ? "" : " (" + a + " and " + b + ")") +
                        " in one mapping; YAML would silently keep only one value: remove one "
                        "(to change a key for one run use a variant or --set " +
                        full + "=VALUE)");
      }
      walk(kv.second, full, depth + 1);
    }
  }

  void check_quote(const YAML::Node& scalar, const std::string& path) {
    const YAML::Mark mark = scalar.Mark();
    if (mark.is_null() || mark.pos < 0) return;
    const auto pos = static_cast<std::size_t>(mark.pos);
    if (pos >= text_.size() || (text_[pos] != '\'' && text_[pos] != '"')) return;
    if (quote_closes(text_, pos)) return;
    throw UserError(source_ + ": " + (path.empty() ? "(top level)" : "key '" + path + "'") +
                    ": the quote " + text_[pos] + " opened at " + where(mark) +
                    " is never closed (the value would run to the end of the text): add the "
                    "closing " +
                    text_[pos]);
  }

  const std::string& text_;
  const std::string& source_;
};

}  // namespace

YAML::Node load_yaml_strict(const std::string& text, const std::string& source) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw UserError(source + ": not valid YAML: " + e.what());
  }
  for (std::size_t i = 1; i < documents.size(); ++i) {
    if (documents[i].IsNull()) continue;  // a trailing `---` with nothing after it
    const std::string at = where(documents[i].Mark());
    throw UserError(source + ": a second YAML document" + (at.empty() ? "" : " (at " + at + ")") +
                    " follows '---'; only the first would be read: give one document (remove "
                    "the '---' line and merge the keys, or use variants: for several runs)");
  }
  if (documents.empty()) return YAML::Node();
  Checker(text, source).walk(documents.front(), "", 0);
  return documents.front();
}

}  // namespace dpsgd::config
