// unix-socket.peer-close.*: what a socket sees once its peer has closed.
// Source: unix(7) ERRORS (EPIPE, ECONNREFUSED); POSIX.1-2017 recv() and send().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <signal.h>
#include <sys/socket.h>

using namespace fx;

BEHAVIOUR("unix-socket.peer-close.stream-read-returns-queued-data-then-zero", "[posix]",
          "after the peer of a stream socket closes, recv returns the data still queued, then 0 (end of file)",
          "POSIX.1-2017 recv() (peer has performed an orderly shutdown: returns 0)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  REQUIRE(::send(b.get(), "abc", 3, 0) == 3);
  b.reset();
  char buf[8];
  REQUIRE_THAT(sys(::recv(a.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(3));
  REQUIRE_THAT(sys(::recv(a.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(0));
}

BEHAVIOUR("unix-socket.peer-close.stream-send-fails-epipe-with-msg-nosignal", "[posix]",
          "send with MSG_NOSIGNAL on a stream socket whose peer has closed fails with EPIPE and raises no SIGPIPE",
          "unix(7) ERRORS (EPIPE); send(2) MSG_NOSIGNAL; POSIX.1-2017 send()") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  b.reset();
  // Run in a child with default dispositions: a SIGPIPE would kill it.
  auto c = call_in_child([fd = a.get()] { return ::send(fd, "x", 1, MSG_NOSIGNAL); });
  REQUIRE_THAT(c.status, ExitedWith(0));
  REQUIRE_THAT(c.result, FailsWith(EPIPE));
}

BEHAVIOUR("unix-socket.peer-close.stream-send-raises-sigpipe", "[posix][signal]",
          "send without MSG_NOSIGNAL on a stream socket whose peer has closed raises SIGPIPE, killing a process with the default disposition",
          "unix(7) ERRORS (EPIPE: if enabled, a SIGPIPE is sent as well); POSIX.1-2017 send()") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  b.reset();
  REQUIRE_THAT(call_in_child([fd = a.get()] { return ::send(fd, "x", 1, 0); }).status, KilledBy(SIGPIPE));
}

BEHAVIOUR("unix-socket.peer-close.seqpacket-read-returns-zero", "[posix]",
          "after the peer of a SOCK_SEQPACKET socket closes, recv returns 0",
          "POSIX.1-2017 recv() (peer has performed an orderly shutdown: returns 0)") {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  b.reset();
  char buf[4];
  REQUIRE_THAT(sys(::recv(a.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(0));
}

BEHAVIOUR("unix-socket.peer-close.seqpacket-send-fails-epipe", "[posix]",
          "send with MSG_NOSIGNAL on a SOCK_SEQPACKET socket whose peer has closed fails with EPIPE",
          "POSIX.1-2017 send() ERRORS (EPIPE: connection-mode socket no longer connected)") {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  b.reset();
  REQUIRE_THAT(sys(::send(a.get(), "x", 1, MSG_NOSIGNAL)), FailsWith(EPIPE));
}

BEHAVIOUR("unix-socket.peer-close.seqpacket-send-raises-no-sigpipe", "[linux-specific][signal]",
          "send without MSG_NOSIGNAL on a SOCK_SEQPACKET socket whose peer has closed fails with EPIPE and raises no SIGPIPE (Linux sends SIGPIPE for stream sockets only; POSIX send() asks for it on SOCK_SEQPACKET too)",
          "unix(7) ERRORS (EPIPE: remote socket closed on a stream socket; if enabled, a SIGPIPE is sent as well); contrast POSIX.1-2017 send()") {
  auto [a, b] = make_socketpair(SOCK_SEQPACKET);
  b.reset();
  auto c = call_in_child([fd = a.get()] { return ::send(fd, "x", 1, 0); });
  REQUIRE_THAT(c.status, ExitedWith(0));
  REQUIRE_THAT(c.result, FailsWith(EPIPE));
}

BEHAVIOUR("unix-socket.peer-close.dgram-socketpair-send-fails-econnrefused", "[linux-specific]",
          "send on a SOCK_DGRAM socketpair socket whose peer has closed fails with ECONNREFUSED (not EPIPE) and raises no SIGPIPE",
          "unix(7) ERRORS (ECONNREFUSED; EPIPE only for stream sockets)") {
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  b.reset();
  auto c = call_in_child([fd = a.get()] { return ::send(fd, "x", 1, 0); });
  REQUIRE_THAT(c.status, ExitedWith(0));
  REQUIRE_THAT(c.result, FailsWith(ECONNREFUSED));
}
