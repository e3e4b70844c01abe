// unix-socket.message.*: message boundaries and truncation per socket type.
// Source: unix(7) DESCRIPTION; recv(2) / recvmsg(2) MSG_TRUNC; POSIX.1-2017 recv(), recvmsg().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>

#include <cstring>
#include <string>

using namespace fx;

namespace {
// Two sends of 3 and 4 bytes, then one recv with room for both.
long recv_after_two_sends(int type) {
  auto [a, b] = make_socketpair(type);
  REQUIRE(::send(a.get(), "abc", 3, 0) == 3);
  REQUIRE(::send(a.get(), "defg", 4, 0) == 4);
  char buf[16];
  // Data is queued when send returns; MSG_DONTWAIT keeps a broken kernel from hanging us.
  return ::recv(b.get(), buf, sizeof buf, MSG_DONTWAIT);
}

// Sends "hello" and then "yo"; receives with a 2-byte buffer through recvmsg.
void check_truncation_discards_rest(int type) {
  auto [a, b] = make_socketpair(type);
  REQUIRE(::send(a.get(), "hello", 5, 0) == 5);
  REQUIRE(::send(a.get(), "yo", 2, 0) == 2);
  char buf[2];
  iovec iov{buf, sizeof buf};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  THEN("recvmsg returns the 2 bytes that fit and sets MSG_TRUNC") {
    REQUIRE_THAT(sys(::recvmsg(b.get(), &m, MSG_DONTWAIT)), Returns(2));
    REQUIRE(std::memcmp(buf, "he", 2) == 0);
    REQUIRE((m.msg_flags & MSG_TRUNC) != 0);
    AND_THEN("the rest of the message is gone: the next recv returns the next message") {
      char next[8];
      REQUIRE_THAT(sys(::recv(b.get(), next, sizeof next, MSG_DONTWAIT)), Returns(2));
      REQUIRE(std::memcmp(next, "yo", 2) == 0);
    }
  }
}
}  // namespace

BEHAVIOUR("unix-socket.message.stream-keeps-no-boundaries", "[posix]",
          "on a SOCK_STREAM socket the bytes of two sends are returned together by one recv",
          "unix(7) DESCRIPTION; POSIX.1-2017 recv() (SOCK_STREAM: byte stream)") {
  REQUIRE_THAT(sys(recv_after_two_sends(SOCK_STREAM)), Returns(7));
}

BEHAVIOUR("unix-socket.message.dgram-keeps-boundaries", "[posix]",
          "on a SOCK_DGRAM socket each recv returns exactly one datagram, however large the buffer",
          "unix(7) DESCRIPTION (SOCK_DGRAM preserves message boundaries); POSIX.1-2017 recv()") {
  REQUIRE_THAT(sys(recv_after_two_sends(SOCK_DGRAM)), Returns(3));
}

BEHAVIOUR("unix-socket.message.seqpacket-keeps-boundaries", "[posix]",
          "on a SOCK_SEQPACKET socket each recv returns exactly one message, however large the buffer",
          "unix(7) DESCRIPTION (SOCK_SEQPACKET preserves message boundaries); POSIX.1-2017 recv()") {
  REQUIRE_THAT(sys(recv_after_two_sends(SOCK_SEQPACKET)), Returns(3));
}

BEHAVIOUR("unix-socket.message.dgram-truncation-sets-msg-trunc-and-discards-rest", "[posix]",
          "a SOCK_DGRAM datagram longer than the buffer is truncated, recvmsg sets MSG_TRUNC in msg_flags, and the excess is discarded",
          "POSIX.1-2017 recvmsg() (MSG_TRUNC) and recv() (excess bytes discarded); recvmsg(2) msg_flags") {
  check_truncation_discards_rest(SOCK_DGRAM);
}

BEHAVIOUR("unix-socket.message.seqpacket-truncation-sets-msg-trunc-and-discards-rest", "[posix]",
          "a SOCK_SEQPACKET message longer than the buffer is truncated, recvmsg sets MSG_TRUNC in msg_flags, and the excess is discarded",
          "POSIX.1-2017 recv() (SOCK_SEQPACKET: excess bytes discarded) and recvmsg() (MSG_TRUNC)") {
  check_truncation_discards_rest(SOCK_SEQPACKET);
}

BEHAVIOUR("unix-socket.message.recv-msg-trunc-returns-real-datagram-length", "[linux-specific]",
          "recv with the MSG_TRUNC flag on a unix datagram socket returns the datagram's real length, even when the buffer is shorter",
          "recv(2) MSG_TRUNC (UNIX datagram since Linux 3.4); unix(7) Sockets API") {
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  REQUIRE(::send(a.get(), "hello", 5, 0) == 5);
  char buf[2];
  REQUIRE_THAT(sys(::recv(b.get(), buf, sizeof buf, MSG_TRUNC | MSG_DONTWAIT)), Returns(5));
  REQUIRE(std::memcmp(buf, "he", 2) == 0);
}

BEHAVIOUR("unix-socket.message.dgram-zero-length-datagram-is-a-message", "[posix]",
          "a zero-length datagram is delivered on a unix SOCK_DGRAM socket: recv returns 0 for it and the next recv the next datagram",
          "POSIX.1-2017 send() and recv() (a message of length 0); unix(7) DESCRIPTION") {
  auto [a, b] = make_socketpair(SOCK_DGRAM);
  REQUIRE_THAT(sys(::send(a.get(), "", 0, 0)), Returns(0));
  REQUIRE(::send(a.get(), "z", 1, 0) == 1);
  char buf[4];
  REQUIRE_THAT(sys(::recv(b.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(0));
  REQUIRE_THAT(sys(::recv(b.get(), buf, sizeof buf, MSG_DONTWAIT)), Returns(1));
}
