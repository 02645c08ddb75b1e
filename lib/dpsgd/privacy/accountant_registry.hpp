#pragma once
// Accountant registry, keyed by YAML `privacy.accountant`.
#include <functional>
#include <memory>

#include "dpsgd/privacy/accountant.hpp"
#include "dpsgd/util/registry.hpp"

namespace dpsgd::privacy {

struct AccountantOptions {
  /// RDP only: use the classic conversion (Mironov 2017) instead of the improved
  /// one (Balle et al. 2020), which is tighter and is what Opacus reports.
  bool rdp_classic_conversion = false;
};

using AccountantFactory = std::function<std::unique_ptr<Accountant>(const AccountantOptions&)>;
using AccountantRegistry = util::Registry<AccountantFactory>;

void register_builtin_accountants(AccountantRegistry& registry);
const AccountantRegistry& accountant_registry();

}  // namespace dpsgd::privacy
