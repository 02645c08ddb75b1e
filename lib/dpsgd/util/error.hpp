#pragma once
// Error types that map to the app's exit codes: a user's mistake (bad config,
// missing data, bad arguments) is exit code 2 with a message and no stack trace.
#include <stdexcept>
#include <string>

namespace dpsgd::util {

/// Bad input from the user: a config key, a CLI argument or a missing file.
/// The message already names the file, key and value; the app prints it as is.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dpsgd::util
