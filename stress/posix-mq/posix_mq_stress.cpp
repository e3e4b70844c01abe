// POSIX message queue stress: producers send records at several priorities into one small
// queue (senders block when it is full), consumers take them with mq_timedreceive.
//
// Every (producer, priority) pair is a stream with its own sequence numbers. What is
// checked is what mq_receive(3) promises ("removes the oldest message with the highest
// priority"), no more:
//  - every record is whole (length, payload, checksum) and arrives with the priority it
//    was sent with;
//  - exactly once over all consumers;
//  - order within each priority per producer: a consumer never takes a record while an
//    older one of the same priority is queued, so each consumer sees every stream in
//    increasing order; with a single consumer ("single-consumer") that order is gapless.
// Every send and receive has a deadline (--wait-ms): a timeout is reported (a lost record
// or a deadlock), never waited on forever.
#include "common/mech_support.hpp"

#include "fx/posix_ipc.hpp"

#include <mqueue.h>

#include <cerrno>
#include <map>

using namespace stress;
using namespace stress::mech;

namespace {

constexpr unsigned kPrios = 4;

struct Params {
  unsigned producers;
  unsigned consumers;
  uint64_t records;  // per producer, spread over the priorities
  size_t max_size;
  long maxmsg;
};

unsigned prio_of(uint32_t producer, uint64_t i) { return unsigned(mix(producer + 100, i) % kPrios); }

int producer(Run const& run, Params const& p, std::string const& name, uint32_t id, Tally& t,
             SharedArray<std::atomic<uint64_t>>& sent, Metrics const& m) {
  fx::MqDesc q = fx::open_posix_mq(name, O_WRONLY);
  std::vector<unsigned char> buf(p.max_size);
  uint64_t seq[kPrios] = {};
  for (uint64_t i = 0; i < p.records; ++i) {
    unsigned prio = prio_of(id, i);
    uint32_t stream = id * kPrios + prio;
    uint64_t& s = seq[prio];
    if (run.fault == Fault::Skip && stream == 0 && s == kFaultSeq) ++s;
    size_t len = record_len(stream, s, kHeader, p.max_size);
    make_record(buf.data(), len, stream, s);
    if (run.fault == Fault::Corrupt && stream == 0 && s == kFaultSeq) buf[kHeader] ^= 0x01;
    int copies = (run.fault == Fault::Duplicate && stream == 0 && s == kFaultSeq) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      // An expired timeout returns ETIMEDOUT at once on a full queue (mq_send(3)): this
      // only counts how often senders had to block.
      timespec past = fx::realtime_in(-std::chrono::seconds(1));
      int rc = ::mq_timedsend(q.get(), reinterpret_cast<char*>(buf.data()), len, prio, &past);
      if (rc != 0 && errno == ETIMEDOUT) {
        t.full.fetch_add(1);
        timespec dl = fx::realtime_in(run.wait);
        while ((rc = ::mq_timedsend(q.get(), reinterpret_cast<char*>(buf.data()), len, prio, &dl)) != 0 && errno == EINTR) {
        }
      }
      if (rc != 0) {
        report(t, m, "producer " + std::to_string(id) + ": mq_timedsend " +
                         (errno == ETIMEDOUT ? "timed out: queue full and nobody receives (deadlock)"
                                             : std::string("failed: ") + std::strerror(errno)));
        return kWorkerViolation;
      }
      t.progress.fetch_add(1);
    }
    ++s;
  }
  for (unsigned k = 0; k < kPrios; ++k) sent[id * kPrios + k].store(seq[k]);
  return kWorkerOk;
}

// Consumers take tickets: there are exactly as many tickets as records sent, so each
// ticket has a record to receive, and a receive that times out means a record was lost.
int consumer(Params const& p, std::string const& name, unsigned me, uint64_t total, Tally& t,
             std::atomic<uint64_t>& tickets, ExactlyOnce const& once, Metrics const& m, std::chrono::milliseconds wait) {
  fx::MqDesc q = fx::open_posix_mq(name, O_RDONLY);
  std::string who = "consumer " + std::to_string(me);
  std::vector<unsigned char> buf(p.max_size + 1);  // mq_msgsize bytes; larger is allowed
  std::map<uint32_t, uint64_t> next;
  OrderChecker order;
  bool single = p.consumers == 1, bad = false;
  auto fail = [&](std::string const& what) {
    report(t, m, who + ": " + what);
    bad = true;
  };
  mq_attr a = fx::mq_attributes(q.get());
  buf.resize(size_t(a.mq_msgsize));
  while (tickets.fetch_add(1) < total) {
    unsigned prio = 0;
    timespec dl = fx::realtime_in(wait);
    ssize_t n;
    while ((n = ::mq_timedreceive(q.get(), reinterpret_cast<char*>(buf.data()), buf.size(), &prio, &dl)) < 0 &&
           errno == EINTR) {
    }
    if (n < 0) {
      fail(errno == ETIMEDOUT ? "no record within " + std::to_string(wait.count()) + " ms though " +
                                    std::to_string(total) + " were sent (lost record or deadlock)"
                              : std::string("mq_timedreceive failed: ") + std::strerror(errno));
      return kWorkerViolation;
    }
    t.progress.fetch_add(1);
    std::string why;
    if (size_t(n) < kHeader) {
      fail("message of priority " + std::to_string(prio) + " is " + std::to_string(n) + " bytes, shorter than a header");
      continue;
    }
    if (!check_record(buf.data(), size_t(n), &why)) {
      fail("priority " + std::to_string(prio) + ": " + why);
      continue;
    }
    RecordHeader h;
    std::memcpy(&h, buf.data(), kHeader);
    std::string id = "record producer " + std::to_string(h.writer / kPrios) + " priority " +
                     std::to_string(h.writer % kPrios) + " seq " + std::to_string(h.seq);
    if (h.writer >= p.producers * kPrios) fail(id + ": unknown stream");
    if (prio != h.writer % kPrios) fail(id + " arrived with priority " + std::to_string(prio));
    switch (once.mark(h.writer, h.seq)) {
      case ExactlyOnce::kNew: break;
      case ExactlyOnce::kDuplicate: fail(id + " received twice (duplicate)"); break;
      case ExactlyOnce::kOutOfRange: fail(id + ": sequence number out of range"); break;
    }
    if (single) {
      if (!order.accept(h.writer, h.seq, &why)) fail(id + ": order within the priority broken: " + why);
    } else {
      uint64_t& nx = next[h.writer];
      if (h.seq < nx) fail(id + " after seq " + std::to_string(nx - 1) + " of the same stream (older record taken later)");
      nx = h.seq + 1;
    }
    t.records.fetch_add(1);
    t.bytes.fetch_add(uint64_t(n));
  }
  return bad ? kWorkerViolation : kWorkerOk;
}

void round(Run& run, Params const& p, Metrics& m) {
  SharedArray<Tally> tally(1);
  Tally& t = tally[0];
  SharedArray<std::atomic<uint64_t>> sent(p.producers * kPrios);
  SharedArray<std::atomic<uint64_t>> tickets(1);
  ExactlyOnce once(p.producers * kPrios, p.records + 1);
  fx::PosixMq mq = fx::make_posix_mq(O_RDWR, p.maxmsg, long(p.max_size));
  // Producers and consumers open the queue by name, each with its own descriptor.
  std::string const name = mq.name.str();
  uint64_t total = p.producers * p.records + (run.fault == Fault::Duplicate ? 1 : 0);

  Workers w;
  for (unsigned i = 0; i < p.consumers; ++i)
    w.spawn("consumer " + std::to_string(i), [&, i] {
      return worker_main([&] { return consumer(p, name, i, total, t, tickets[0], once, m, run.wait); });
    });
  for (uint32_t i = 0; i < p.producers; ++i)
    w.spawn("producer " + std::to_string(i),
            [&, i] { return worker_main([&] { return producer(run, p, name, i, t, sent, m); }); });
  w.wait_all(run, m, t, run.wait + std::chrono::seconds(2));

  if (run.completed) {
    mq_attr a = fx::mq_attributes(mq.get());
    if (a.mq_curmsgs != 0)
      report(t, m, std::to_string(a.mq_curmsgs) + " messages still queued after every sent record was received");
    for (uint32_t s = 0; s < p.producers * kPrios; ++s)
      for (uint64_t seq : once.missing(s, sent[s].load()))
        report(t, m, "record producer " + std::to_string(s / kPrios) + " priority " + std::to_string(s % kPrios) +
                         " seq " + std::to_string(seq) + " never received (lost)");
  }
  m.records += t.records.load();
  m.bytes += t.bytes.load();
  m.violations += t.violations.load();
  if (t.full.load() > 0 && m.violations == 0 && run.opt.seconds <= 0)
    std::cerr << "posix-mq/" << m.variant << ": senders found the queue full " << t.full.load() << " times and blocked\n";
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main([&] {
    Options d;
    d.writers = 4;
    d.readers = 3;
    d.records = 8000;
    d.size = 1024;
    Run run(argc, argv, d);
    // 8 messages: below the default /proc/sys/fs/mqueue/msg_max (10) an unprivileged
    // process may not exceed (mq_overview(7)).
    long maxmsg = std::stol(run.extra("maxmsg", "8"));
    run.no_more_options();
    if (run.opt.writers == 0 || run.opt.readers == 0 || run.opt.records == 0 || run.opt.size < kHeader)
      throw SetupError("need writers, readers and records > 0 and a size of at least a record header");
    if (run.fault != Fault::None && run.fault != Fault::Skip && run.fault != Fault::Corrupt &&
        run.fault != Fault::Duplicate)
      throw SetupError("posix-mq injects skip, corrupt or duplicate");
    if (!fx::is_mqueue_mount()) std::cerr << "note: /dev/mqueue is not mounted; queues are not visible there\n";

    struct Cfg {
      std::string variant;
      unsigned consumers;
    };
    for (Cfg const& c : {Cfg{"single-consumer", 1}, Cfg{"multi-consumer", run.opt.readers}}) {
      if (!run.selected(c.variant)) continue;
      Params p{run.opt.writers, c.consumers, run.opt.records, run.opt.size, maxmsg};
      Metrics base;
      base.mechanism = "posix-mq";
      base.variant = c.variant;
      base.processes = p.producers + p.consumers;
      base.record_size = p.max_size;
      run.configuration(base, [&](Metrics& m) { round(run, p, m); });
    }
    return run.verdict();
  });
}
