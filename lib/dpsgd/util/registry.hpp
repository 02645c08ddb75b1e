#pragma once
// A registry maps the name a user writes in YAML to a factory. One registry
// exists per extension point (datasets, models, engines, clippers, accountants,
// optimizers), each filled in one explicit function, so the set of valid names is
// known up front and an unknown name can be answered with the list of valid ones.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd/util/error.hpp"

namespace dpsgd::util {

template <typename Factory>
class Registry {
 public:
  explicit Registry(std::string what) : what_(std::move(what)) {}

  void add(const std::string& name, std::string description, Factory factory) {
    if (entries_.count(name) != 0) {
      throw std::logic_error(what_ + " '" + name + "' registered twice");
    }
    entries_.emplace(name, Entry{std::move(description), std::move(factory)});
  }

  [[nodiscard]] bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  /// The factory for `name`; a UserError listing the valid names otherwise.
  [[nodiscard]] const Factory& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      throw UserError("unknown " + what_ + " '" + name + "'; valid: " + joined_names());
    }
    return it->second.factory;
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) out.push_back(name);
    return out;
  }

  [[nodiscard]] std::string joined_names() const {
    std::string out;
    for (const auto& [name, entry] : entries_) {
      if (!out.empty()) out += ", ";
      out += name;
    }
    return out;
  }

  [[nodiscard]] const std::string& description(const std::string& name) const {
    (void)get(name);  // throws the listing error for unknown names
    return entries_.at(name).description;
  }

 private:
  struct Entry {
    std::string description;
    Factory factory;
  };
  std::string what_;
  std::map<std::string, Entry> entries_;
};

}  // namespace dpsgd::util
