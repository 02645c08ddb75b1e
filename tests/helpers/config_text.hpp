#pragma once
// A minimal valid experiment config as YAML text, and the message of the
// util::UserError a parse throws, for the config tests.
#include <functional>
#include <string>

namespace dpsgd::test {

/// A private Fashion-MNIST config with every section, valid as it stands.
extern const char* const kMinimalConfig;

/// The what() of the util::UserError `parse` throws; empty when it throws none.
std::string user_error_of(const std::function<void()>& parse);

}  // namespace dpsgd::test
