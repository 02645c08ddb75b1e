#include "dpsgd/accounting/accountant_registry.hpp"

#include "dpsgd/accounting/gdp_accountant.hpp"
#include "dpsgd/accounting/prv_accountant.hpp"
#include "dpsgd/accounting/rdp_accountant.hpp"

namespace dpsgd::accounting {

void register_builtin_accountants(AccountantRegistry& registry) {
  registry.add("rdp", "Renyi DP of the Poisson-subsampled Gaussian (Mironov et al. 2019)",
               [](const AccountantOptions& o) -> std::unique_ptr<Accountant> {
                 return std::make_unique<RdpAccountant>(o.rdp_conversion);
               });
  registry.add("prv",
               "PRV accountant (Gopi, Lee, Wutschitz 2021; as Opacus): numerical composition "
               "by FFT; epsilon is the estimate, epsilon_upper the guarantee "
               "(eps_error 0.01, delta_error delta/1000)",
               [](const AccountantOptions&) -> std::unique_ptr<Accountant> {
                 return std::make_unique<PrvAccountant>();
               });
  registry.add("gdp",
               "APPROXIMATION, not a guarantee: Gaussian DP via the central limit theorem "
               "(Bu, Dong, Long, Su 2020); can be below the true epsilon",
               [](const AccountantOptions&) -> std::unique_ptr<Accountant> {
                 return std::make_unique<ApproximateGdpAccountant>();
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

}  // namespace dpsgd::accounting
