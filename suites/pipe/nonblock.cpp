// pipe.nonblock.*: reads and writes with O_NONBLOCK set on the pipe's open file description.
// Sources: pipe(7) "I/O on pipes and FIFOs" and "PIPE_BUF"; POSIX.1-2017 read() and write().
#include "fx/fx.hpp"
#include "fx/pipe_extra.hpp"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <string>

using namespace fx;

BEHAVIOUR("pipe.nonblock.read-empty-with-writer-fails-eagain", "[posix]",
          "a non-blocking read on an empty pipe that still has a writer fails with EAGAIN",
          "POSIX.1-2017 read() DESCRIPTION (empty pipe, O_NONBLOCK set); read(2) ERRORS EAGAIN") {
  auto [r, w] = make_pipe(O_NONBLOCK);
  char b;
  REQUIRE_THAT(sys(::read(r.get(), &b, 1)), FailsWith(EAGAIN));
}

BEHAVIOUR("pipe.nonblock.read-empty-without-writer-returns-zero", "[posix]",
          "a non-blocking read on an empty pipe with no writer left returns 0 (end-of-file)",
          "POSIX.1-2017 read() DESCRIPTION (no process has the pipe open for writing); pipe(7) I/O on pipes and FIFOs") {
  auto [r, w] = make_pipe(O_NONBLOCK);
  w.reset();
  char b;
  REQUIRE_THAT(sys(::read(r.get(), &b, 1)), Returns(0));
}

BEHAVIOUR("pipe.nonblock.read-returns-queued-bytes", "[posix]",
          "a non-blocking read on a pipe holding fewer bytes than requested returns those bytes",
          "POSIX.1-2017 read() RETURN VALUE; pipe(7) I/O on pipes and FIFOs") {
  auto [r, w] = make_pipe(O_NONBLOCK);
  write_all(w.get(), "hello", 5);
  char buf[64];
  REQUIRE_THAT(sys(::read(r.get(), buf, sizeof buf)), Returns(5));
  REQUIRE(std::string(buf, 5) == "hello");
}

BEHAVIOUR("pipe.nonblock.small-write-without-room-fails-eagain-writing-nothing", "[posix]",
          "a non-blocking write of n <= PIPE_BUF bytes into a pipe with less than n bytes free "
          "fails with EAGAIN and writes nothing",
          "pipe(7) PIPE_BUF (O_NONBLOCK enabled, n <= PIPE_BUF); POSIX.1-2017 write() DESCRIPTION "
          "(O_NONBLOCK, {PIPE_BUF} or fewer bytes)") {
  auto [r, w] = make_pipe();
  size_t cap = static_cast<size_t>(pipe_capacity(w.get()));
  std::string fill(cap - 10, 'f');  // ten bytes free
  write_all(w.get(), fill.data(), fill.size());
  set_nonblock(w.get());
  std::string msg(100, 'm');
  REQUIRE_THAT(sys(::write(w.get(), msg.data(), msg.size())), FailsWith(EAGAIN));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == cap - 10);
}

BEHAVIOUR("pipe.nonblock.pipe-buf-write-without-room-fails-eagain-writing-nothing", "[posix]",
          "a non-blocking write of exactly PIPE_BUF bytes into a pipe with one byte less free "
          "fails with EAGAIN and writes nothing",
          "pipe(7) PIPE_BUF (O_NONBLOCK enabled, n <= PIPE_BUF); POSIX.1-2017 write() DESCRIPTION") {
  auto [r, w] = make_pipe();
  size_t cap = static_cast<size_t>(pipe_capacity(w.get()));
  std::string fill(cap - (PIPE_BUF - 1), 'f');
  write_all(w.get(), fill.data(), fill.size());
  set_nonblock(w.get());
  std::string msg(PIPE_BUF, 'm');
  REQUIRE_THAT(sys(::write(w.get(), msg.data(), msg.size())), FailsWith(EAGAIN));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == fill.size());
}

BEHAVIOUR("pipe.nonblock.small-write-with-room-writes-all", "[posix]",
          "a non-blocking write of n <= PIPE_BUF bytes into a pipe with room for them writes all n",
          "pipe(7) PIPE_BUF (O_NONBLOCK enabled, n <= PIPE_BUF); POSIX.1-2017 write() DESCRIPTION") {
  auto [r, w] = make_pipe(O_NONBLOCK);
  std::string msg(PIPE_BUF, 'm');
  REQUIRE_THAT(sys(::write(w.get(), msg.data(), msg.size())), Returns(PIPE_BUF));
  REQUIRE(fionread(r.get()) == PIPE_BUF);
}

BEHAVIOUR("pipe.nonblock.large-write-with-some-room-is-partial", "[posix]",
          "a non-blocking write of more than PIPE_BUF bytes into a pipe with some but not enough "
          "room writes part of the data and returns that count",
          "pipe(7) PIPE_BUF (O_NONBLOCK enabled, n > PIPE_BUF: partial write); POSIX.1-2017 write() "
          "DESCRIPTION (transfer what it can and return the number of bytes written)") {
  auto [r, w] = make_pipe();
  size_t cap = static_cast<size_t>(pipe_capacity(w.get()));
  if (cap < 4 * PIPE_BUF) skip("pipe capacity is " + std::to_string(cap) + " (user pipe page limit?)");
  std::string fill(cap - 2 * PIPE_BUF, 'f');  // two pages free
  write_all(w.get(), fill.data(), fill.size());
  set_nonblock(w.get());
  std::string msg(4 * PIPE_BUF, 'm');
  auto res = sys(::write(w.get(), msg.data(), msg.size()));
  REQUIRE(res.value > 0);
  REQUIRE(res.value < static_cast<long>(msg.size()));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == fill.size() + static_cast<size_t>(res.value));
}

BEHAVIOUR("pipe.nonblock.large-write-to-full-pipe-fails-eagain", "[posix]",
          "a non-blocking write of more than PIPE_BUF bytes into a full pipe fails with EAGAIN",
          "pipe(7) PIPE_BUF (O_NONBLOCK enabled, n > PIPE_BUF: if the pipe is full); POSIX.1-2017 "
          "write() DESCRIPTION (when no data can be written)") {
  auto [r, w] = make_pipe();
  size_t queued = fill_pipe(w.get());
  set_nonblock(w.get());
  std::string msg(4 * PIPE_BUF, 'm');
  REQUIRE_THAT(sys(::write(w.get(), msg.data(), msg.size())), FailsWith(EAGAIN));
  REQUIRE(static_cast<size_t>(fionread(r.get())) == queued);
}

BEHAVIOUR("pipe.nonblock.large-write-to-empty-pipe-transfers-at-least-pipe-buf", "[posix]",
          "a non-blocking write of more than PIPE_BUF bytes into an empty pipe transfers at least "
          "PIPE_BUF bytes",
          "POSIX.1-2017 write() DESCRIPTION (when all data previously written to the pipe is read, "
          "it shall transfer at least {PIPE_BUF} bytes)") {
  auto [r, w] = make_pipe(O_NONBLOCK);
  // Larger than any capacity the pipe can have here, so the write cannot be complete.
  std::string msg(2 * 1024 * 1024 + 1, 'm');
  auto res = sys(::write(w.get(), msg.data(), msg.size()));
  REQUIRE(res.value >= PIPE_BUF);
  REQUIRE(static_cast<long>(fionread(r.get())) == res.value);
}
