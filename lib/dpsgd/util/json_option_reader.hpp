#pragma once
// An OptionReader over a JSON object, for options given in code (tests, the
// programmatic API) rather than in a YAML file. Failures are std::invalid_argument
// naming `prefix`.key and the value.
#include <string>

#include <nlohmann/json.hpp>

#include "dpsgd/util/option_reader.hpp"

namespace dpsgd::util {

class JsonOptionReader final : public OptionReader {
 public:
  JsonOptionReader(nlohmann::json object, std::string prefix);
  [[nodiscard]] bool has(const std::string& key) override;
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
  nlohmann::json object_;
  std::string prefix_;
};

}  // namespace dpsgd::util
