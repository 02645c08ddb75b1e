#pragma once
// Graceful stops on SIGINT, SIGTERM and SIGHUP: the first signal only sets a
// flag, which the epoch loop checks after every step; it then writes a
// checkpoint, marks the run "interrupted" and the process exits with 128 + the
// signal number (130, 143, 129), as shells expect. A second signal restores the
// default action, so a user pressing Ctrl-C twice always gets out at once.
namespace dpsgd::util {

/// Installs the handlers (idempotent).
void install_stop_handlers();
/// The signal that asked for a stop, or 0.
[[nodiscard]] int stop_requested();
/// Sets the flag as if `signal` had arrived (a peer process of a data-parallel
/// run was stopped by it: every process stops and exits the same way).
void request_stop(int signal);
/// Clears the flag (tests).
void clear_stop_request();
/// The conventional exit code for a stop by `signal`: 128 + signal.
[[nodiscard]] int exit_code_for_signal(int signal);

}  // namespace dpsgd::util
