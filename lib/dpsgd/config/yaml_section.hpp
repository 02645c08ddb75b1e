#pragma once
// Strict reading of one YAML mapping: every read key is remembered, finish()
// refuses the rest (typos, keys of other versions), and every failure is a
// util::UserError naming the file, the full dotted key and the value.
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "dpsgd/util/option_reader.hpp"

namespace dpsgd::config {

/// A node as one line of flow-style YAML, for messages.
std::string render(const YAML::Node& node);

class Section {
 public:
  Section(const YAML::Node& node, std::string path, const std::string& file);

  [[noreturn]] void fail(const std::string& key, const std::string& value,
                         const std::string& expected) const;
  /// The full dotted key of `k` in this section.
  [[nodiscard]] std::string key(const std::string& k) const;
  [[nodiscard]] const std::string& file() const { return file_; }
  /// The keys the file gives in this section, in file order. Does not count as
  /// reading them.
  [[nodiscard]] std::vector<std::string> given_keys() const;
  /// Whether `k` is given with a null value (how a variant or --set removes a
  /// key). Does not count as reading it.
  [[nodiscard]] bool given_as_null(const std::string& k) const;

  YAML::Node get(const std::string& k);
  bool has(const std::string& k);

  template <typename T>
  void read(const std::string& k, T& out, const std::string& expected) {
    const auto n = get(k);
    if (!n || n.IsNull()) return;
    if (!n.IsScalar()) fail(key(k), render(n), expected);
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      fail(key(k), render(n), expected);
    }
  }

  void read_int(const std::string& k, std::int64_t& out, std::int64_t min_value,
                const std::string& expected);
  /// The same within [min_value, max_value].
  void read_int(const std::string& k, std::int64_t& out, std::int64_t min_value,
                std::int64_t max_value, const std::string& expected);
  void read_double(const std::string& k, double& out, const std::function<bool(double)>& ok,
                   const std::string& expected);
  /// A number or a non-empty list of numbers, each passing `ok`.
  void read_number_list(const std::string& k, std::vector<double>& out,
                        const std::function<bool(double)>& ok, const std::string& expected);

  template <typename Registry>
  void read_name(const std::string& k, std::string& out, const Registry& registry) {
    read(k, out, "one of: " + registry.joined_names());
    if (!registry.contains(out)) fail(key(k), out, "one of: " + registry.joined_names());
  }

  /// Rejects keys that were never read.
  void finish() const;

 private:
  YAML::Node node_;
  std::string path_;
  const std::string& file_;
  std::set<std::string> seen_;
};

/// The OptionReader of an extension's options (a clipping mode's keys) over a
/// section, so the extension reads its keys without seeing YAML.
class SectionReader final : public util::OptionReader {
 public:
  explicit SectionReader(Section& section) : section_(section) {}
  [[nodiscard]] bool has(const std::string& key) override { return section_.has(key); }
  void read_bool(const std::string& key, bool& out) override;
  void read_string(const std::string& key, std::string& out, const std::string& expected) override;
  void read_int(const std::string& key, std::int64_t& out, std::int64_t min_value,
                const std::string& expected) override;
  void read_double(const std::string& key, double& out, const std::function<bool(double)>& ok,
                   const std::string& expected) override;
  void read_double_list(const std::string& key, std::vector<double>& out,
                        const std::function<bool(double)>& ok,
                        const std::string& expected) override;
  [[noreturn]] void reject(const std::string& key, const std::string& expected) override;

 private:
  Section& section_;
};

}  // namespace dpsgd::config
