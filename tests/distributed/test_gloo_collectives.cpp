// The c10d communicator over Gloo with two participants (two threads of this
// process, each its own rank, meeting through a TCPStore on loopback): sums,
// broadcasts and the variable-length exchanges built on them, empty ones included.
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/distributed/backends/process_group_factory.hpp"
#include "dpsgd/distributed/c10d_communicator.hpp"
#include "dpsgd/distributed/collectives.hpp"
#include "tests/helpers/run_binary.hpp"
#include "tests/helpers/skip.hpp"

namespace {

using dpsgd::distributed::Communicator;

// Runs `body(comm)` on two ranks at once; returns each rank's result.
template <typename Result>
std::vector<Result> on_two_ranks(const std::function<Result(Communicator&)>& body) {
  const int port = dpsgd::test::free_loopback_port();
  std::vector<std::future<Result>> ranks;
  for (int r = 0; r < 2; ++r) {
    ranks.push_back(std::async(std::launch::async, [r, port, &body] {
      dpsgd::distributed::LaunchEnvironment env;
      env.rank = r;
      env.world_size = 2;
      env.master_addr = "127.0.0.1";
      env.master_port = port;
      env.timeout = std::chrono::seconds(60);
      auto comm = dpsgd::distributed::make_c10d_communicator(
          env, dpsgd::distributed::BackendKind::kGloo, torch::kCPU);
      return body(*comm);
    }));
  }
  std::vector<Result> out;
  for (auto& f : ranks) out.push_back(f.get());
  return out;
}

}  // namespace

TEST_CASE("Gloo, two ranks: sums, broadcasts, variable-length exchanges", "[distributed]") {
  if (!dpsgd::distributed::gloo_available()) DPSGD_SKIP("built without Gloo (libgloo-dev)");
  const auto results = on_two_ranks<std::vector<torch::Tensor>>([](Communicator& comm) {
    const int r = comm.rank();
    // Two tensors of different shapes in one sum.
    std::vector<torch::Tensor> sums = {torch::full({2, 3}, r + 1.0), torch::full({4}, 10.0 * r)};
    comm.all_reduce_sum(sums);
    // Rank 0 draws 5 indices, rank 1's argument is ignored; then an empty broadcast.
    const auto idx = dpsgd::distributed::broadcast_indices(
        comm, r == 0 ? torch::tensor({1, 4, 7, 8, 9}, torch::kInt64) : torch::tensor({3}), 0);
    const auto none =
        dpsgd::distributed::broadcast_indices(comm, torch::empty({0}, torch::kInt64), 0);
    // Rank 0 holds 3 norms, rank 1 none; then both hold some.
    const auto gathered = dpsgd::distributed::gather_concat(
        comm, r == 0 ? torch::tensor({0.5, 1.5, 2.5}) : torch::empty({0}));
    const auto both = dpsgd::distributed::gather_concat(comm, torch::full({r + 1}, r + 7.0));
    return std::vector<torch::Tensor>{sums[0], sums[1], idx, none, gathered, both};
  });
  for (const auto& rank : results) {
    REQUIRE(torch::equal(rank[0], torch::full({2, 3}, 3.0)));
    REQUIRE(torch::equal(rank[1], torch::full({4}, 10.0)));
    REQUIRE(torch::equal(rank[2], torch::tensor({1, 4, 7, 8, 9}, torch::kInt64)));
    REQUIRE(rank[3].numel() == 0);
    REQUIRE(torch::equal(rank[4], torch::tensor({0.5, 1.5, 2.5}, torch::kFloat64)));
    REQUIRE(torch::equal(rank[5], torch::tensor({7.0, 8.0, 8.0}, torch::kFloat64)));
  }
}
