#pragma once
// Accountant registry, keyed by YAML `privacy.accountant`.
#include <functional>
#include <memory>

#include "dpsgd/accounting/accountant.hpp"
#include "dpsgd/accounting/rdp_accountant.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::accounting {

struct AccountantOptions {
  /// RDP only: the improved conversion (Balle et al. 2020), tighter and what Opacus
  /// reports, or the classic one (Mironov 2017), which TF Privacy's tables use.
  RdpConversion rdp_conversion = RdpConversion::kImproved;
};

using AccountantFactory = std::function<std::unique_ptr<Accountant>(const AccountantOptions&)>;
using AccountantRegistry = util::Registry<AccountantFactory>;

void register_builtin_accountants(AccountantRegistry& registry);
const AccountantRegistry& accountant_registry();

}  // namespace dpsgd::accounting
