#pragma once
// Reading the options of one extension (a clipping mode, ...) without knowing the
// file format. The config layer implements it over a YAML section, so the only
// code that sees YAML stays in config/, while each extension owns the list of its
// keys, their checks and defaults next to its factory. Every failure names the
// file, the full key and the value (a util::UserError, exit code 2).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dpsgd::util {

class OptionReader {
 public:
  virtual ~OptionReader() = default;
  /// Whether `key` is given (and not null).
  [[nodiscard]] virtual bool has(const std::string& key) = 0;
  /// Each read_* leaves `out` unchanged when the key is absent.
  virtual void read_bool(const std::string& key, bool& out) = 0;
  virtual void read_string(const std::string& key, std::string& out,
                           const std::string& expected) = 0;
  virtual void read_int(const std::string& key, std::int64_t& out, std::int64_t min_value,
                        const std::string& expected) = 0;
  virtual void read_double(const std::string& key, double& out,
                           const std::function<bool(double)>& ok, const std::string& expected) = 0;
  /// A non-empty list of numbers, each passing `ok`.
  virtual void read_double_list(const std::string& key, std::vector<double>& out,
                                const std::function<bool(double)>& ok,
                                const std::string& expected) = 0;
  /// Refuses the value given for `key`, saying what was expected instead.
  [[noreturn]] virtual void reject(const std::string& key, const std::string& expected) = 0;
};

}  // namespace dpsgd::util
