#pragma once
// The refusal of an accountant that cannot answer for a history: outside the
// range where its numerics are valid (PRV: the privacy loss leaves the
// discretisation domain, or its error cannot be bounded), or a result that is
// not a number. An epsilon the accountant has not earned (e.g. 0 for a
// billion steps) is the worst output this program can give, so every such case
// throws this instead; callers turn it into a clear error (the CLI: exit 2 with
// advice), and calibration treats a refused sigma as not reaching the target.
#include <stdexcept>

namespace dpsgd::accounting {

class AccountingError : public std::domain_error {
 public:
  using std::domain_error::domain_error;
};

}  // namespace dpsgd::accounting
