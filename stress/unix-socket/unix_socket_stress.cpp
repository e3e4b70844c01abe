// Unix domain socket stress: many sender processes, one receiver (this process), records of
// varying length.
//  - "dgram": SOCK_DGRAM senders connected to one bound receiver socket. unix(7): "UNIX
//    domain datagram sockets are always reliable and don't reorder datagrams", so every
//    record of every sender arrives, once, whole, in its sender's order. Senders block when
//    the receiver's queue is full (/proc/sys/net/unix/max_dgram_qlen).
//  - "seqpacket": SOCK_SEQPACKET, one connection per sender to one listener; unix(7):
//    "preserves message boundaries, and delivers messages in the order that they were
//    sent". Each connection carries one sender's records only, in order, gapless.
// Every receive returns exactly one record (the receive buffer is larger than any record,
// and MSG_TRUNC must not be set), so a merged, split or torn message shows. Every wait has
// a deadline (--wait-ms): senders use SO_SNDTIMEO, the receiver poll(2).
#include "common/mech_support.hpp"

#include "fx/socket.hpp"
#include "fx/tempdir.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <map>

using namespace stress;
using namespace stress::mech;

namespace {

struct Params {
  unsigned senders;
  uint64_t records;
  size_t max_size;
};

void set_timeouts(int fd, std::chrono::milliseconds wait) {
  timeval tv{static_cast<time_t>(wait.count() / 1000), static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    throw std::system_error(errno, std::generic_category(), "SO_SNDTIMEO");
}

int sender(Run const& run, Params const& p, int type, fx::UnixAddr const& addr, uint32_t id, Tally& t, Metrics const& m) {
  fx::Fd s = fx::unix_connect(addr, type);
  set_timeouts(s.get(), run.wait);
  std::vector<unsigned char> buf(p.max_size);
  for (uint64_t i = 0; i < p.records; ++i) {
    uint64_t seq = (run.fault == Fault::Skip && id == 0 && i >= kFaultSeq) ? i + 1 : i;
    size_t len = record_len(id, seq, kHeader, p.max_size);
    make_record(buf.data(), len, id, seq);
    if (run.fault == Fault::Corrupt && id == 0 && i == kFaultSeq) buf[len - 1] ^= 0x04;
    // Split: the record goes out as two messages, which the receiver must see as two.
    std::vector<std::pair<size_t, size_t>> parts = {{0, len}};
    if (run.fault == Fault::Split && id == 0 && i == kFaultSeq) parts = {{0, len / 2}, {len / 2, len - len / 2}};
    for (auto [off, n] : parts) {
      ssize_t rc;
      while ((rc = ::send(s.get(), buf.data() + off, n, 0)) < 0 && errno == EINTR) {
      }
      if (rc != ssize_t(n)) {
        report(t, m, "sender " + std::to_string(id) + ": send of record seq " + std::to_string(seq) + " (" +
                         std::to_string(n) + " bytes) " +
                         (rc < 0 ? (errno == EAGAIN ? "timed out (receiver stalled)" : std::string(std::strerror(errno)))
                                 : "returned " + std::to_string(rc)));
        return kWorkerViolation;
      }
      t.progress.fetch_add(1);
    }
  }
  return kWorkerOk;
}

// Receives messages and checks that each is one whole record, of the connection's sender
// (*writer, or any sender while it is -1), in that sender's order.
struct Receiver {
  Run& run;
  Params const& p;
  Metrics& m;
  Tally& t;
  OrderChecker order;
  std::vector<unsigned char> buf;
  uint64_t messages = 0;

  Receiver(Run& r, Params const& pp, Metrics& mm, Tally& tt) : run(r), p(pp), m(mm), t(tt), buf(pp.max_size + 64) {}

  int take(int fd, std::string const& where, long* writer, int type) {
    iovec iov{buf.data(), buf.size()};
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n;
    while ((n = ::recvmsg(fd, &mh, MSG_DONTWAIT)) < 0 && errno == EINTR) {
    }
    if (n < 0) {
      if (errno == EAGAIN) return 2;
      report(t, m, where + ": recvmsg failed: " + std::strerror(errno));
      return -1;
    }
    if (n == 0 && type == SOCK_SEQPACKET) return 0;
    t.progress.fetch_add(1);
    ++messages;
    std::string why;
    if (mh.msg_flags & MSG_TRUNC) {
      report(t, m, where + ": message truncated (MSG_TRUNC) in a " + std::to_string(buf.size()) + "-byte buffer");
      return 1;
    }
    if (size_t(n) < kHeader) {
      report(t, m, where + ": message of " + std::to_string(n) + " bytes, shorter than a record header (split record?)");
      return 1;
    }
    if (!check_record(buf.data(), size_t(n), &why)) {
      report(t, m, where + ": message of " + std::to_string(n) + " bytes is not one whole record: " + why);
      return 1;
    }
    RecordHeader h;
    std::memcpy(&h, buf.data(), kHeader);
    if (*writer >= 0 && h.writer != uint32_t(*writer))
      report(t, m, where + ": record of sender " + std::to_string(h.writer) + " seq " + std::to_string(h.seq) +
                       " on the connection of sender " + std::to_string(*writer));
    *writer = h.writer;
    if (h.writer >= p.senders)
      report(t, m, where + ": record of unknown sender " + std::to_string(h.writer));
    else if (!order.accept(h.writer, h.seq, &why))
      report(t, m, where + ": " + why);
    t.records.fetch_add(1);
    t.bytes.fetch_add(uint64_t(n));
    return 1;
  }
};

void round(Run& run, Params const& p, int type, Metrics& m) {
  SharedArray<Tally> tally(1);
  Tally& t = tally[0];
  fx::TempDir dir;
  auto addr = fx::UnixAddr::path(dir / "receiver");
  fx::Fd rx = type == SOCK_DGRAM ? fx::unix_bound(addr, SOCK_DGRAM) : fx::unix_listener(addr, SOCK_SEQPACKET, int(p.senders));
  Receiver rcv(run, p, m, t);

  Workers w;
  for (uint32_t i = 0; i < p.senders; ++i)
    w.spawn("sender " + std::to_string(i),
            [&, i] { return worker_main([&] { rx.reset(); return sender(run, p, type, addr, i, t, m); }); });

  std::vector<fx::Fd> conns;
  std::vector<long> conn_writer;
  if (type == SOCK_SEQPACKET)
    for (unsigned i = 0; i < p.senders; ++i) {
      conns.push_back(fx::accept_fd(rx.get(), fx::deadline(run.wait)));
      conn_writer.push_back(-1);
    }
  else {
    conns.push_back(std::move(rx));
    conn_writer.push_back(-1);
  }

  // Receive until every record arrived (dgram) or every connection ended (seqpacket), as
  // long as something keeps arriving.
  uint64_t const total = p.senders * p.records + (run.fault == Fault::Split ? 1 : 0);
  size_t open = conns.size();
  std::vector<bool> ended(conns.size());
  auto d = fx::deadline(run.wait);
  while (open > 0 && !(type == SOCK_DGRAM && rcv.messages >= total)) {
    std::vector<pollfd> pf;
    std::vector<size_t> idx;
    for (size_t i = 0; i < conns.size(); ++i)
      if (!ended[i]) {
        pf.push_back({conns[i].get(), POLLIN, 0});
        idx.push_back(i);
      }
    int rem = int(std::chrono::duration_cast<std::chrono::milliseconds>(d.remaining()).count());
    int n = ::poll(pf.data(), pf.size(), rem);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      run.incomplete(m, t, "nothing received for " + std::to_string(run.wait.count()) + " ms with " +
                               std::to_string(t.records.load()) + " of " + std::to_string(total) +
                               " records in (lost records or stalled senders)");
      break;
    }
    for (size_t k = 0; k < pf.size(); ++k) {
      if (!pf[k].revents) continue;
      size_t i = idx[k];
      std::string where = type == SOCK_DGRAM ? "receiver" : "connection " + std::to_string(i);
      long wr = type == SOCK_DGRAM ? -1 : conn_writer[i];
      // Drain what is queued on this socket: 1 a message, 2 nothing more now, 0 the
      // sender's end of the connection closed, -1 an error.
      int r;
      while ((r = rcv.take(conns[i].get(), where, &wr, type)) == 1) {
        d = fx::deadline(run.wait);
        if (type == SOCK_DGRAM) wr = -1;  // one socket, every sender
      }
      if (type == SOCK_SEQPACKET) conn_writer[i] = wr;
      if (r == 0 || r == -1) {
        ended[i] = true;
        --open;
      }
    }
  }
  w.wait_all(run, m, t, run.wait + std::chrono::seconds(2));

  if (run.completed) {
    std::string why;
    if (!rcv.order.complete(p.senders, p.records, &why))
      report(t, m, "missing records: " + why);
  }
  m.records += t.records.load();
  m.bytes += t.bytes.load();
  m.violations += t.violations.load();
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main([&] {
    Options d;
    d.writers = 8;
    d.records = 8000;
    d.size = 2048;
    Run run(argc, argv, d);
    run.no_more_options();
    if (run.opt.writers == 0 || run.opt.records == 0 || run.opt.size < kHeader)
      throw SetupError("need writers and records > 0 and a size of at least a record header");
    if (run.fault != Fault::None && run.fault != Fault::Skip && run.fault != Fault::Corrupt && run.fault != Fault::Split)
      throw SetupError("unix-socket injects skip, corrupt or split");

    struct Cfg {
      std::string variant;
      int type;
    };
    for (Cfg const& c : {Cfg{"dgram", SOCK_DGRAM}, Cfg{"seqpacket", SOCK_SEQPACKET}}) {
      if (!run.selected(c.variant)) continue;
      Params p{run.opt.writers, run.opt.records, run.opt.size};
      Metrics base;
      base.mechanism = "unix-socket";
      base.variant = c.variant;
      base.processes = p.senders + 1;
      base.record_size = p.max_size;
      run.configuration(base, [&](Metrics& m) { round(run, p, c.type, m); });
    }
    return run.verdict();
  });
}
