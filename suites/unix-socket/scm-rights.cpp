// unix-socket.scm-rights.*: passing descriptors with SCM_RIGHTS ancillary data.
// Source: unix(7) "Ancillary messages" (SCM_RIGHTS) and ERRORS; cmsg(3); recvmsg(2).
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

using namespace fx;

namespace {
struct Received {
  long ret = 0;
  int flags = 0;
  std::vector<int> fds;  // owned by the caller (wrapped in Fd at once)
};

// recvmsg with 1 data byte and a control buffer of ctl_size bytes; returns the descriptors
// of the first SCM_RIGHTS message.
Received recv_fds(int sock, size_t ctl_size, int flags = 0) {
  char byte;
  iovec iov{&byte, 1};
  std::vector<char> ctl(ctl_size ? ctl_size : 1);
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl_size ? ctl.data() : nullptr;
  m.msg_controllen = ctl_size;
  Received r;
  r.ret = ::recvmsg(sock, &m, flags | MSG_DONTWAIT);
  r.flags = m.msg_flags;
  if (r.ret < 0) return r;
  for (cmsghdr* h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    r.fds.resize(n);
    std::memcpy(r.fds.data(), CMSG_DATA(h), n * sizeof(int));
    break;
  }
  return r;
}

Fd take_one(Received const& r) {
  REQUIRE(r.fds.size() == 1);
  return Fd(r.fds[0]);
}

// A temporary file with "0123456789" in it, opened read-only.
Fd ten_byte_file(TempDir const& dir) {
  std::string p = dir / "f";
  {
    Fd w(::open(p.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600));
    REQUIRE(w.valid());
    write_all(w.get(), "0123456789", 10);
  }
  Fd r(::open(p.c_str(), O_RDONLY));
  REQUIRE(r.valid());
  return r;
}
}  // namespace

BEHAVIOUR("unix-socket.scm-rights.shares-file-offset", "[linux-specific]",
          "a descriptor received through SCM_RIGHTS refers to the same open file description: reads through either advance one shared file offset",
          "unix(7) SCM_RIGHTS (equivalent to dup(2): a reference to the same open file description)") {
  TempDir dir;
  Fd file = ten_byte_file(dir);
  auto [a, b] = make_socketpair(SOCK_STREAM);
  send_fds(a.get(), {file.get()});
  auto r = recv_fds(b.get(), CMSG_SPACE(sizeof(int)));
  REQUIRE(r.ret == 1);
  Fd got = take_one(r);
  REQUIRE(got.get() != file.get());
  char buf[4];
  REQUIRE(::read(file.get(), buf, 3) == 3);
  REQUIRE_THAT(sys(::read(got.get(), buf, 3)), Returns(3));
  REQUIRE(std::memcmp(buf, "345", 3) == 0);
  REQUIRE(::lseek(file.get(), 0, SEEK_CUR) == 6);
}

BEHAVIOUR("unix-socket.scm-rights.shares-file-status-flags", "[linux-specific]",
          "O_NONBLOCK set through a descriptor received with SCM_RIGHTS is seen through the sender's descriptor (shared file status flags)",
          "unix(7) SCM_RIGHTS (same open file description); open(2) (file status flags belong to the open file description)") {
  auto p = make_pipe();
  auto [a, b] = make_socketpair(SOCK_STREAM);
  send_fds(a.get(), {p.r.get()});
  auto r = recv_fds(b.get(), CMSG_SPACE(sizeof(int)));
  REQUIRE(r.ret == 1);
  Fd got = take_one(r);
  REQUIRE((get_fl(p.r.get()) & O_NONBLOCK) == 0);
  set_nonblock(got.get());
  REQUIRE((get_fl(p.r.get()) & O_NONBLOCK) != 0);
  char c;
  REQUIRE_THAT(sys(::read(p.r.get(), &c, 1)), FailsWith(EAGAIN));
}

BEHAVIOUR("unix-socket.scm-rights.valid-after-sender-closes", "[linux-specific]",
          "a descriptor in flight stays usable when the sender closes its copy before the receiver calls recvmsg",
          "unix(7) SCM_RIGHTS (a reference to the open file description is passed)") {
  auto p = make_pipe();
  auto [a, b] = make_socketpair(SOCK_STREAM);
  send_fds(a.get(), {p.w.get()});
  p.w.reset();
  a.reset();
  auto r = recv_fds(b.get(), CMSG_SPACE(sizeof(int)));
  REQUIRE(r.ret == 1);
  Fd w = take_one(r);
  REQUIRE_THAT(sys(::write(w.get(), "q", 1)), Returns(1));
  char c = 0;
  REQUIRE_THAT(sys(::read(p.r.get(), &c, 1)), Returns(1));
  REQUIRE(c == 'q');
}

BEHAVIOUR("unix-socket.scm-rights.short-control-buffer-sets-msg-ctrunc-and-closes-excess", "[linux-specific]",
          "when the control buffer holds fewer descriptors than were sent, recvmsg sets MSG_CTRUNC, installs those that fit, and closes the rest",
          "unix(7) SCM_RIGHTS (excess file descriptors are automatically closed) and Ancillary messages (MSG_CTRUNC)") {
  // The write ends of three pipes travel; the read ends show which write ends still exist.
  Pipe p[3] = {make_pipe(O_NONBLOCK), make_pipe(O_NONBLOCK), make_pipe(O_NONBLOCK)};
  auto [a, b] = make_socketpair(SOCK_STREAM);
  send_fds(a.get(), {p[0].w.get(), p[1].w.get(), p[2].w.get()});
  for (auto& x : p) x.w.reset();
  // Room for one descriptor (CMSG_SPACE pads it to 8 bytes on x86_64, so the kernel may
  // install two): never for three.
  auto r = recv_fds(b.get(), CMSG_SPACE(sizeof(int)));
  REQUIRE(r.ret == 1);
  std::vector<Fd> got;
  for (int fd : r.fds) got.emplace_back(fd);
  REQUIRE((r.flags & MSG_CTRUNC) != 0);
  REQUIRE(!got.empty());
  REQUIRE(got.size() < 3);
  char c;
  for (size_t i = 0; i < 3; ++i) {
    if (i < got.size()) {
      // Installed: a write end still exists, so the empty pipe reports EAGAIN.
      REQUIRE_THAT(sys(::read(p[i].r.get(), &c, 1)), FailsWith(EAGAIN));
    } else {
      // Dropped: the kernel closed the last write end, so the reader sees end of file.
      REQUIRE_THAT(sys(::read(p[i].r.get(), &c, 1)), Returns(0));
    }
  }
}

BEHAVIOUR("unix-socket.scm-rights.no-control-buffer-sets-msg-ctrunc-and-closes-all", "[linux-specific]",
          "recvmsg without a control buffer discards passed descriptors (closing them) and sets MSG_CTRUNC",
          "unix(7) SCM_RIGHTS (buffer absent: ancillary data discarded, descriptors closed) and Ancillary messages (MSG_CTRUNC)") {
  auto p = make_pipe(O_NONBLOCK);
  auto [a, b] = make_socketpair(SOCK_STREAM);
  send_fds(a.get(), {p.w.get()});
  p.w.reset();
  auto r = recv_fds(b.get(), 0);
  REQUIRE(r.ret == 1);
  REQUIRE(r.fds.empty());
  REQUIRE((r.flags & MSG_CTRUNC) != 0);
  char c;
  REQUIRE_THAT(sys(::read(p.r.get(), &c, 1)), Returns(0));
}

BEHAVIOUR("unix-socket.scm-rights.msg-cmsg-cloexec-sets-close-on-exec", "[linux-specific]",
          "a received descriptor has FD_CLOEXEC clear by default and set when recvmsg is given MSG_CMSG_CLOEXEC",
          "recvmsg(2) MSG_CMSG_CLOEXEC (since Linux 2.6.23)") {
  auto p = make_pipe();
  auto [a, b] = make_socketpair(SOCK_STREAM);
  send_fds(a.get(), {p.r.get()});
  send_fds(a.get(), {p.r.get()});
  auto plain = recv_fds(b.get(), CMSG_SPACE(sizeof(int)));
  REQUIRE(plain.ret == 1);
  Fd f1 = take_one(plain);
  auto cloexec = recv_fds(b.get(), CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC);
  REQUIRE(cloexec.ret == 1);
  Fd f2 = take_one(cloexec);
  REQUIRE((get_fd_flags(f1.get()) & FD_CLOEXEC) == 0);
  REQUIRE((get_fd_flags(f2.get()) & FD_CLOEXEC) != 0);
}

BEHAVIOUR("unix-socket.scm-rights.invalid-descriptor-fails-ebadf", "[linux-specific]",
          "sendmsg with SCM_RIGHTS naming a descriptor that is not open fails with EBADF and sends nothing",
          "unix(7) ERRORS (EBADF)") {
  auto [a, b] = make_socketpair(SOCK_STREAM);
  // A descriptor number that is certainly closed: open one, note it, close it.
  int closed;
  {
    auto p = make_pipe();
    closed = p.r.get();
  }
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  msghdr m{};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = ctl;
  m.msg_controllen = sizeof ctl;
  cmsghdr* h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(h), &closed, sizeof closed);
  REQUIRE_THAT(sys(::sendmsg(a.get(), &m, 0)), FailsWith(EBADF));
  REQUIRE(fionread(b.get()) == 0);
}
