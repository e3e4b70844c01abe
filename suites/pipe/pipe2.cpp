// pipe.pipe2.*: the flags of pipe2() (Linux-specific system call).
// Source: pipe(2) DESCRIPTION and ERRORS.
#include "fx/fx.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

using namespace fx;

namespace {
// Exit status of the helper run in a child with descriptor fd: 0 open, 3 closed.
WaitStatus fd_state_after_exec(int fd) {
  return run_in_child([fd] { exec_helper({"fd-is-open", std::to_string(fd)}); });
}

Pipe make_direct_pipe() {
  int fds[2];
  if (::pipe2(fds, O_DIRECT) != 0) {
    if (errno == EINVAL) unsupported("pipe2(O_DIRECT) rejected with EINVAL (packet-mode pipes, Linux 3.4)");
    throw std::system_error(errno, std::generic_category(), "pipe2(O_DIRECT)");
  }
  return {Fd(fds[0]), Fd(fds[1])};
}
}  // namespace

BEHAVIOUR("pipe.pipe2.cloexec-sets-fd-cloexec-on-both-ends", "[linux-specific]",
          "pipe2(O_CLOEXEC) sets FD_CLOEXEC on both new descriptors",
          "pipe(2) DESCRIPTION O_CLOEXEC") {
  int fds[2];
  REQUIRE_THAT(sys(::pipe2(fds, O_CLOEXEC)), Returns(0));
  Fd r(fds[0]), w(fds[1]);
  REQUIRE((get_fd_flags(r.get()) & FD_CLOEXEC) != 0);
  REQUIRE((get_fd_flags(w.get()) & FD_CLOEXEC) != 0);
}

BEHAVIOUR("pipe.pipe2.cloexec-ends-closed-across-exec", "[linux-specific]",
          "both ends of a pipe made with pipe2(O_CLOEXEC) are closed in a program started by execve",
          "pipe(2) DESCRIPTION O_CLOEXEC; open(2) O_CLOEXEC") {
  int fds[2];
  REQUIRE_THAT(sys(::pipe2(fds, O_CLOEXEC)), Returns(0));
  Fd r(fds[0]), w(fds[1]);
  // The helper exits 0 when the descriptor is open, 3 when it is not.
  REQUIRE_THAT(fd_state_after_exec(r.get()), ExitedWith(3));
  REQUIRE_THAT(fd_state_after_exec(w.get()), ExitedWith(3));
}

BEHAVIOUR("pipe.pipe2.without-cloexec-ends-stay-open-across-exec", "[linux-specific]",
          "both ends of a pipe made with pipe2(0) stay open in a program started by execve",
          "pipe(2) DESCRIPTION (flags 0: the same as pipe())") {
  int fds[2];
  REQUIRE_THAT(sys(::pipe2(fds, 0)), Returns(0));
  Fd r(fds[0]), w(fds[1]);
  REQUIRE_THAT(fd_state_after_exec(r.get()), ExitedWith(0));
  REQUIRE_THAT(fd_state_after_exec(w.get()), ExitedWith(0));
}

BEHAVIOUR("pipe.pipe2.nonblock-sets-o-nonblock-on-both-ends", "[linux-specific]",
          "pipe2(O_NONBLOCK) sets O_NONBLOCK on the open file descriptions of both ends",
          "pipe(2) DESCRIPTION O_NONBLOCK") {
  int fds[2];
  REQUIRE_THAT(sys(::pipe2(fds, O_NONBLOCK)), Returns(0));
  Fd r(fds[0]), w(fds[1]);
  REQUIRE((get_fl(r.get()) & O_NONBLOCK) != 0);
  REQUIRE((get_fl(w.get()) & O_NONBLOCK) != 0);
  // And it behaves so: an empty read end does not block.
  char b;
  REQUIRE_THAT(sys(::read(r.get(), &b, 1)), FailsWith(EAGAIN));
}

BEHAVIOUR("pipe.pipe2.unknown-flag-fails-einval", "[linux-specific]",
          "pipe2 with a flag other than O_CLOEXEC, O_DIRECT, O_NONBLOCK (and O_NOTIFICATION_PIPE) "
          "fails with EINVAL and leaves pipefd unchanged",
          "pipe(2) ERRORS EINVAL and RETURN VALUE") {
  int fds[2] = {-7, -7};
  REQUIRE_THAT(sys(::pipe2(fds, O_APPEND)), FailsWith(EINVAL));
  REQUIRE(fds[0] == -7);
  REQUIRE(fds[1] == -7);
  REQUIRE_THAT(sys(::pipe2(fds, O_NONBLOCK | O_TRUNC)), FailsWith(EINVAL));
  REQUIRE(fds[0] == -7);
  REQUIRE(fds[1] == -7);
}

BEHAVIOUR("pipe.pipe2.direct-each-write-is-a-packet", "[linux-specific]",
          "in a pipe made with O_DIRECT, each write is a packet: a read returns one packet even "
          "when more are queued",
          "pipe(2) DESCRIPTION O_DIRECT (read(2)s from the pipe will read one packet at a time)") {
  auto [r, w] = make_direct_pipe();
  write_all(w.get(), "first", 5);
  write_all(w.get(), "second", 6);
  char buf[PIPE_BUF];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(5));
  REQUIRE(std::string(buf, 5) == "first");
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(6));
  REQUIRE(std::string(buf, 6) == "second");
}

BEHAVIOUR("pipe.pipe2.direct-short-read-discards-rest-of-packet", "[linux-specific]",
          "in an O_DIRECT pipe a read shorter than the next packet returns the bytes asked for "
          "and discards the rest of that packet",
          "pipe(2) DESCRIPTION O_DIRECT (the excess bytes in the packet are discarded)") {
  auto [r, w] = make_direct_pipe();
  write_all(w.get(), "abcdef", 6);
  write_all(w.get(), "XYZ", 3);
  char buf[PIPE_BUF];
  REQUIRE_THAT(sys(::read(r.get(), buf, 2)), Returns(2));
  REQUIRE(std::string(buf, 2) == "ab");
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(3));
  REQUIRE(std::string(buf, 3) == "XYZ");
}

BEHAVIOUR("pipe.pipe2.direct-large-write-split-into-pipe-buf-packets", "[linux-specific]",
          "in an O_DIRECT pipe a write of more than PIPE_BUF bytes becomes packets of PIPE_BUF bytes",
          "pipe(2) DESCRIPTION O_DIRECT (writes of greater than PIPE_BUF bytes will be split into "
          "multiple packets)") {
  auto [r, w] = make_direct_pipe();
  std::string data(2 * PIPE_BUF + 10, 'd');
  write_all(w.get(), data.data(), data.size());
  std::string buf(3 * PIPE_BUF, '\0');
  REQUIRE_THAT(sys(::read(r.get(), buf.data(), buf.size())), Returns(PIPE_BUF));
  REQUIRE_THAT(sys(::read(r.get(), buf.data(), buf.size())), Returns(PIPE_BUF));
  REQUIRE_THAT(sys(::read(r.get(), buf.data(), buf.size())), Returns(10));
}

BEHAVIOUR("pipe.pipe2.direct-can-be-set-with-fcntl", "[linux-specific]",
          "O_DIRECT set with fcntl F_SETFL on an ordinary pipe's write end puts it in packet mode",
          "pipe(2) DESCRIPTION O_DIRECT (since Linux 4.5 the O_DIRECT setting can be changed with "
          "fcntl(2)); fcntl(2) F_SETFL") {
  auto [r, w] = make_pipe();
  REQUIRE_THAT(sys(::fcntl(w.get(), F_SETFL, get_fl(w.get()) | O_DIRECT)), Returns(0));
  REQUIRE((get_fl(w.get()) & O_DIRECT) != 0);
  write_all(w.get(), "one", 3);
  write_all(w.get(), "two", 3);
  char buf[16];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(3));
  REQUIRE(std::string(buf, 3) == "one");
}
