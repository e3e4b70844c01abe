// pipe.async.*: signal-driven I/O (O_ASYNC) on pipes.
// Source: pipe(7) Open file status flags; fcntl(2) F_SETOWN, F_SETFL O_ASYNC.
#include "fx/fx.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

using namespace fx;

BEHAVIOUR("pipe.async.read-end-o-async-raises-sigio-on-input", "[linux-specific][signal]",
          "with O_ASYNC set on the read end and F_SETOWN naming the process, new input raises SIGIO",
          "pipe(7) Open file status flags (O_ASYNC); fcntl(2) F_SETOWN") {
  auto [r, w] = make_pipe();
  struct Report {
    int before, after;
  };
  Shared<Report> rep(Report{-1, -1});
  auto st = run_in_child([&, rfd = r.get(), wfd = w.get()]() -> int {
    reset_signals();
    SignalCounter c(SIGIO);
    if (::fcntl(rfd, F_SETOWN, ::getpid()) != 0) return 1;
    if (::fcntl(rfd, F_SETFL, ::fcntl(rfd, F_GETFL) | O_ASYNC) != 0) return 2;
    rep->before = c.count();
    if (::write(wfd, "x", 1) != 1) return 3;
    (void)c.wait(1);
    rep->after = c.count();
    return 0;
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->before == 0);
  REQUIRE(rep->after == 1);
}
