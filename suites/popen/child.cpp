// popen.child.*: what a popen child inherits from earlier popen calls.
// Source: POSIX.1-2017 popen() DESCRIPTION ("popen() shall ensure that any streams from
// previous popen() calls that remain open in the parent process are closed in the new child
// process"); popen(3).
#include "fx/fx.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace fx;

BEHAVIOUR("popen.child.earlier-streams-closed-in-later-command", "[posix]",
          "a command started by popen does not have the descriptors of streams from earlier popen calls open",
          "POSIX.1-2017 popen() DESCRIPTION (streams from previous popen() calls are closed in the new child)") {
  TempDir dir;
  std::string const file = dir / "first";
  struct R {
    bool opened = false;
    int first_fd = -1, control_fd = -1;
    int first_status = -2;    // fd-is-open <fileno of stream #1>: 3 when closed
    int control_status = -2;  // fd-is-open <a plain dup of it>: 0 when open
  };
  Shared<R> rep;
  auto st = run_in_child([&] {
    // Stream #1 without 'e': its descriptor is not close-on-exec, so only popen's own rule
    // can close it in the later child.
    FILE* first = ::popen(("cat > " + file).c_str(), "w");
    if (!first) return;
    rep->first_fd = ::fileno(first);
    // The control: a descriptor of the same pipe that no popen rule covers must be seen as
    // open by the helper, or the probe proves nothing.
    rep->control_fd = ::dup(rep->first_fd);
    std::string const helper = helper_path();
    FILE* probe = ::popen((helper + " fd-is-open " + std::to_string(rep->first_fd)).c_str(), "r");
    FILE* control = ::popen((helper + " fd-is-open " + std::to_string(rep->control_fd)).c_str(), "r");
    rep->opened = probe && control;
    if (probe) rep->first_status = ::pclose(probe);
    if (control) rep->control_status = ::pclose(control);
    ::close(rep->control_fd);
    ::pclose(first);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  INFO("stream #1 fd " << rep->first_fd << ", control fd " << rep->control_fd);
  REQUIRE(WIFEXITED(rep->control_status));
  REQUIRE(WEXITSTATUS(rep->control_status) == 0);
  REQUIRE(WIFEXITED(rep->first_status));
  REQUIRE(WEXITSTATUS(rep->first_status) == 3);
}

BEHAVIOUR("popen.child.eof-reaches-first-command-while-second-runs", "[posix]",
          "pclose of a \"w\" stream gives its command EOF even while a later popen command is still running",
          "POSIX.1-2017 popen() DESCRIPTION (streams from previous popen() calls are closed in the new child); "
          "pipe(7) I/O on pipes and FIFOs") {
  TempDir dir;
  std::string const f1 = dir / "one", f2 = dir / "two";
  struct R { bool opened = false; int first_status = -2; bool second_still_open = false; int second_status = -2; };
  Shared<R> rep;
  // If command #2 held a copy of stream #1's write end, command #1 would never read EOF and
  // pclose(#1) would hang: the deadline turns that into a timed-out child.
  auto st = run_in_child([&] {
    FILE* one = ::popen(("cat > " + f1).c_str(), "w");
    if (!one) return;
    FILE* two = ::popen(("cat > " + f2).c_str(), "w");
    if (!two) { ::pclose(one); return; }
    rep->opened = true;
    std::fputs("first", one);
    std::fputs("second", two);
    rep->first_status = ::pclose(one);
    rep->second_still_open = ::fcntl(::fileno(two), F_GETFD) != -1;
    rep->second_status = ::pclose(two);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  REQUIRE(rep->second_still_open);
  REQUIRE(WIFEXITED(rep->first_status));
  REQUIRE(WEXITSTATUS(rep->first_status) == 0);
  REQUIRE(read_file(f1) == "first");
  REQUIRE(WIFEXITED(rep->second_status));
  REQUIRE(read_file(f2) == "second");
}
