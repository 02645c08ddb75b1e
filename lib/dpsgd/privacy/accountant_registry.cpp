#include "dpsgd/privacy/accountant_registry.hpp"

#include "dpsgd/privacy/rdp_accountant.hpp"

namespace dpsgd::privacy {

void register_builtin_accountants(AccountantRegistry& registry) {
  registry.add("rdp", "Renyi DP of the Poisson-subsampled Gaussian (Mironov et al. 2019)",
               [](const AccountantOptions& o) -> std::unique_ptr<Accountant> {
                 return std::make_unique<RdpAccountant>(o.rdp_classic_conversion
                                                            ? RdpConversion::kClassic
                                                            : RdpConversion::kImproved);
               });
}

const AccountantRegistry& accountant_registry() {
  static const AccountantRegistry registry = [] {
    AccountantRegistry r("accountant");
    register_builtin_accountants(r);
    return r;
  }();
  return registry;
}

}  // namespace dpsgd::privacy
