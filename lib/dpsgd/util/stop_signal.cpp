#include "dpsgd/util/stop_signal.hpp"

#include <csignal>

namespace dpsgd::util {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int signal) {
  if (g_stop_signal != 0) {
    // Second signal: the user insists; take the default action now.
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_stop_signal = signal;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // blocking reads and writes resume after the flag is set
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &action, nullptr);
}

int stop_requested() { return static_cast<int>(g_stop_signal); }

void request_stop(int signal) {
  if (g_stop_signal == 0) g_stop_signal = signal;
}

void clear_stop_request() { g_stop_signal = 0; }

int exit_code_for_signal(int signal) { return 128 + signal; }

}  // namespace dpsgd::util
