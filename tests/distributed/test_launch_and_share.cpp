// The launch environment (torchrun's and srun's variables) and the split of a
// batch into per-process shares.
#include <cstdlib>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "dpsgd/distributed/collectives.hpp"
#include "dpsgd/distributed/communicator.hpp"
#include "dpsgd/distributed/launch_environment.hpp"
#include "dpsgd/util/error.hpp"

namespace {

using dpsgd::distributed::read_launch_environment;

// Sets the variables for one test and restores a clean environment afterwards.
class Environment {
 public:
  Environment(std::initializer_list<std::pair<const char*, const char*>> vars) {
    clear();
    for (const auto& [name, value] : vars) setenv(name, value, 1);
  }
  ~Environment() { clear(); }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  static void clear() {
    for (const char* name :
         {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "SLURM_PROCID",
          "SLURM_NTASKS", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "DPSGD_DIST_TIMEOUT_S",
          "DPSGD_DIST_BACKEND", "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT"}) {
      unsetenv(name);
    }
  }
};

}  // namespace

TEST_CASE("launch environment: torchrun's variables, srun's, or one process", "[distributed]") {
  {
    Environment env({});
    const auto e = read_launch_environment();
    REQUIRE(e.world_size == 1);
    REQUIRE(e.launcher == "single");
  }
  {
    Environment env({{"RANK", "3"},
                     {"WORLD_SIZE", "4"},
                     {"LOCAL_RANK", "1"},
                     {"MASTER_ADDR", "node7"},
                     {"MASTER_PORT", "29400"},
                     {"DPSGD_DIST_TIMEOUT_S", "30"},
                     {"DPSGD_DIST_BACKEND", "gloo"}});
    const auto e = read_launch_environment();
    REQUIRE(e.rank == 3);
    REQUIRE(e.world_size == 4);
    REQUIRE(e.local_rank == 1);
    REQUIRE(e.master_addr == "node7");
    REQUIRE(e.master_port == 29400);
    REQUIRE(e.timeout.count() == 30);
    REQUIRE(e.backend == dpsgd::distributed::BackendKind::kGloo);
    REQUIRE(e.launcher == "torchrun");
  }
  {
    Environment env({{"SLURM_PROCID", "1"},
                     {"SLURM_STEP_NUM_TASKS", "2"},
                     {"SLURM_LOCALID", "1"},
                     {"MASTER_ADDR", "n1"},
                     {"MASTER_PORT", "12345"}});
    const auto e = read_launch_environment();
    REQUIRE(e.launcher == "srun");
    REQUIRE(e.rank == 1);
    REQUIRE(e.local_rank == 1);
  }
  {
    // One task of a job array: one process.
    Environment env({{"SLURM_PROCID", "0"}, {"SLURM_STEP_NUM_TASKS", "1"}});
    REQUIRE(read_launch_environment().world_size == 1);
  }
  {
    // The batch script of a 4-task job is one process, not rank 0 of 4: only an
    // srun step has the step's variables.
    Environment env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}});
    REQUIRE(read_launch_environment().world_size == 1);
  }
  {
    // torchrun's agent serves the store; its restart count names the attempt.
    Environment env({{"RANK", "0"},
                     {"WORLD_SIZE", "2"},
                     {"MASTER_ADDR", "h"},
                     {"MASTER_PORT", "1"},
                     {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                     {"TORCHELASTIC_RESTART_COUNT", "3"}});
    const auto e = read_launch_environment();
    REQUIRE(e.agent_store);
    REQUIRE(e.attempt == "3");
  }
}

TEST_CASE("launch environment: missing or malformed variables are named", "[distributed]") {
  const auto refused = [](std::initializer_list<std::pair<const char*, const char*>> vars,
                          const std::string& named) {
    Environment env(vars);
    INFO(named);
    REQUIRE_THROWS_WITH(read_launch_environment(), Catch::Contains(named));
  };
  refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}, "MASTER_ADDR");
  refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}, "MASTER_PORT");
  refused({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}, "RANK");
  refused({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},
          "RANK='2'");
  refused({{"RANK", "0"}, {"WORLD_SIZE", "two"}}, "WORLD_SIZE='two'");
  refused({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}},
          "MASTER_PORT='70000'");
  refused({{"RANK", "0"},
           {"WORLD_SIZE", "2"},
           {"MASTER_ADDR", "h"},
           {"MASTER_PORT", "1"},
           {"DPSGD_DIST_BACKEND", "mpi"}},
          "gloo, nccl");
}

TEST_CASE("local shares partition every batch, empty shares included", "[distributed]") {
  for (int world : {1, 2, 3, 8}) {
    for (std::int64_t b : {0, 1, 2, 5, 17, 64}) {
      const auto batch = torch::arange(b, torch::kInt64) * 3;
      std::vector<torch::Tensor> shares;
      std::int64_t smallest = b;
      std::int64_t largest = 0;
      for (int r = 0; r < world; ++r) {
        shares.push_back(dpsgd::distributed::local_share(batch, r, world));
        smallest = std::min(smallest, shares.back().size(0));
        largest = std::max(largest, shares.back().size(0));
      }
      INFO("world " << world << ", batch " << b);
      REQUIRE(torch::equal(torch::cat(shares), batch));  // in order, each index once
      REQUIRE(largest - smallest <= 1);
    }
  }
}

TEST_CASE("one process: collectives leave tensors as they are", "[distributed]") {
  auto comm = dpsgd::distributed::single_process();
  REQUIRE(comm->world_size() == 1);
  REQUIRE(comm->is_leader());
  const auto idx = torch::tensor({4, 9}, torch::kInt64);
  REQUIRE(torch::equal(dpsgd::distributed::broadcast_indices(*comm, idx, 0), idx));
  const auto v = torch::tensor({1.5, -2.0});
  REQUIRE(torch::equal(dpsgd::distributed::gather_concat(*comm, v), v.to(torch::kFloat64)));
  std::vector<torch::Tensor> t = {v.clone()};
  comm->all_reduce_sum(t);
  REQUIRE(torch::equal(t.front(), v));
}
