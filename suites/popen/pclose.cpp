// popen.pclose.*: pclose closes the stream, waits for the command and returns its status.
// Source: popen(3) RETURN VALUE; POSIX.1-2017 pclose(). Each scenario runs in a forked child
// with a deadline and reports through fx::Shared memory.
#include "fx/fx.hpp"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

using namespace fx;

namespace {
struct StatusReport {
  bool opened = false;
  int status = -2;  // pclose's result
  int err = 0;      // errno when pclose returned -1
};

// popen(command, mode) then pclose at once, in a forked child.
StatusReport status_of(std::string const& command, char const* mode) {
  Shared<StatusReport> rep;
  auto st = run_in_child([&] {
    FILE* f = ::popen(command.c_str(), mode);
    if (!f) return;
    rep->opened = true;
    rep->status = ::pclose(f);
    rep->err = rep->status == -1 ? errno : 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  return *rep;
}
}  // namespace

BEHAVIOUR("popen.pclose.returns-exit-status", "[posix]",
          "pclose returns the command's wait status: a command that exits with 3 reads back as WIFEXITED, 3",
          "POSIX.1-2017 pclose() RETURN VALUE; popen(3) RETURN VALUE") {
  auto r = status_of("exit 3", "r");
  INFO("pclose returned " << r.status << " errno " << errno_name(r.err));
  REQUIRE(WIFEXITED(r.status));
  REQUIRE(WEXITSTATUS(r.status) == 3);
}

BEHAVIOUR("popen.pclose.returns-signal-status", "[posix]",
          "a command killed by a signal makes pclose return a status with WIFSIGNALED and that signal",
          "POSIX.1-2017 pclose() RETURN VALUE (the termination status as for waitpid); popen(3) RETURN VALUE") {
  // exec: the helper replaces the shell, so the popen child itself dies of the signal.
  auto r = status_of("exec " + helper_path() + " raise " + std::to_string(SIGUSR1), "r");
  INFO("pclose returned " << r.status << " errno " << errno_name(r.err));
  REQUIRE(WIFSIGNALED(r.status));
  REQUIRE(signal_name(WTERMSIG(r.status)) == signal_name(SIGUSR1));
}

BEHAVIOUR("popen.pclose.waits-for-command-to-terminate", "[posix]",
          "pclose returns only after the command has terminated, and reaps it",
          "POSIX.1-2017 pclose() DESCRIPTION; popen(3) DESCRIPTION ('waits for the associated process to terminate')") {
  TempDir dir;
  std::string const file = dir / "done";
  struct R { bool opened = false; int status = -2; long pid = 0; int kill_err = 0; bool file_done = false; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    // The command tells its pid, closes its standard output (the stream sees EOF), and only
    // then works on: a short sleep, so that a pclose that merely closed the stream and
    // returned would be caught before the file is written. The sleep is the command's
    // own work, not a guess about timing in the test.
    FILE* f = ::popen(("echo $$; exec >&-; sleep 0.2; echo done > " + file).c_str(), "r");
    if (!f) return;
    rep->opened = true;
    char line[32] = {};
    if (std::fgets(line, sizeof line, f)) rep->pid = std::strtol(line, nullptr, 10);
    rep->status = ::pclose(f);
    rep->file_done = ::access(file.c_str(), F_OK) == 0;
    // Reaped by pclose: the pid names no process any more (neither running nor zombie).
    rep->kill_err = ::kill(static_cast<pid_t>(rep->pid), 0) == -1 ? errno : 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  REQUIRE(rep->pid > 0);
  REQUIRE(WIFEXITED(rep->status));
  REQUIRE(WEXITSTATUS(rep->status) == 0);
  REQUIRE(rep->file_done);
  REQUIRE(errno_name(rep->kill_err) == errno_name(ESRCH));
}

BEHAVIOUR("popen.pclose.closes-stream-so-command-sees-eof", "[posix]",
          "pclose on a \"w\" stream closes it first, so a command reading to end of input ends and is waited for",
          "POSIX.1-2017 pclose() DESCRIPTION; popen(3) DESCRIPTION") {
  // The command exits with 0 only after reading EOF, and with 5 if its input was not the
  // expected line: both tell that pclose closed the stream before waiting.
  struct R { bool opened = false; int status = -2; };
  Shared<R> rep;
  auto st = run_in_child([&] {
    FILE* f = ::popen("read line && [ \"$line\" = hello ] || exit 5; cat >/dev/null; exit 0", "w");
    if (!f) return;
    rep->opened = true;
    std::fputs("hello\nmore after the first line\n", f);
    rep->status = ::pclose(f);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  REQUIRE(WIFEXITED(rep->status));
  REQUIRE(WEXITSTATUS(rep->status) == 0);
}
