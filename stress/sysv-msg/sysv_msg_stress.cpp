// System V message queue stress: producers send records of mixed types into one queue
// whose msg_qbytes is small enough that they block; consumers select by msgtyp.
//
// Every (producer, type) pair is a stream with its own sequence numbers. What is checked
// is what msgrcv(2) promises, no more:
//  - every record is whole (length, payload, checksum) and carries the type it was sent
//    with, and each consumer only receives types its msgtyp selects (msgtyp > 0: that
//    type; msgtyp < 0: types <= |msgtyp|; MSG_EXCEPT: any other type; 0: any);
//  - exactly once: over all consumers, every record of every stream arrives once;
//  - order: msgrcv takes "the first message in the queue" of the selected type(s), so a
//    single consumer sees each stream's records in increasing order (a later record of a
//    stream cannot be taken while an earlier one of the same stream, hence of the same
//    type, is still queued). With exactly one consumer able to take a type (variant
//    "exclusive"), that consumer sees the type's streams gapless and in order. Where
//    several consumers compete for a type (variant "shared"), each sees an increasing
//    subsequence, and only exactly-once is asserted across them.
#include "common/mech_support.hpp"

#include "fx/sysv_msg.hpp"

#include <sys/msg.h>

#include <cerrno>
#include <map>

using namespace stress;
using namespace stress::mech;

namespace {

constexpr unsigned kTypes = 4;

struct Consumer {
  std::string name;
  long msgtyp;
  int flags;
  bool exclusive;  // the only consumer able to take its types: gapless order asserted
  bool selects(long type) const {
    if (flags & MSG_EXCEPT) return type != msgtyp;
    if (msgtyp == 0) return true;
    if (msgtyp > 0) return type == msgtyp;
    return type <= -msgtyp;
  }
};

struct Config {
  std::string variant;
  std::vector<Consumer> consumers;
};

std::vector<Config> configs() {
  return {
      // Types 1 and 2 go only to the msgtyp -2 consumer, 3 and 4 to their own consumer.
      {"exclusive",
       {{"consumer msgtyp -2", -2, 0, true}, {"consumer msgtyp 3", 3, 0, true}, {"consumer msgtyp 4", 4, 0, true}}},
      // Every type can be taken by two or more consumers.
      {"shared",
       {{"consumer msgtyp 0", 0, 0, false},
        {"consumer msgtyp 1", 1, 0, false},
        {"consumer msgtyp -2", -2, 0, false},
        {"consumer msgtyp 3 MSG_EXCEPT", 3, MSG_EXCEPT, false}}},
  };
}

struct Params {
  unsigned producers;
  uint64_t records;  // per producer, spread over the types
  size_t max_size;   // record (mtext) size range [kHeader, max_size]
  size_t qbytes;
};

long type_of(uint32_t producer, uint64_t i) { return 1 + long(mix(producer, i) % kTypes); }

int producer(Run const& run, Params const& p, int qid, uint32_t id, Tally& t, SharedArray<std::atomic<uint64_t>>& sent,
             Metrics const& m) {
  fx::BigMsgBuf buf(p.max_size);
  uint64_t seq[kTypes] = {};
  auto send = [&](long type, size_t len) -> bool {
    // Try without blocking first only to count how often the queue was full.
    if (::msgsnd(qid, buf.get(), len, IPC_NOWAIT) == 0) return true;
    if (errno != EAGAIN) return false;
    t.full.fetch_add(1);
    while (::msgsnd(qid, buf.get(), len, 0) != 0)
      if (errno != EINTR) return false;
    (void)type;
    return true;
  };
  for (uint64_t i = 0; i < p.records; ++i) {
    long type = type_of(id, i);
    uint32_t stream = id * kTypes + uint32_t(type - 1);
    uint64_t& s = seq[type - 1];
    if (run.fault == Fault::Skip && stream == 0 && s == kFaultSeq) ++s;
    size_t len = record_len(stream, s, kHeader, p.max_size);
    buf.mtype() = type;
    make_record(reinterpret_cast<unsigned char*>(buf.mtext()), len, stream, s);
    if (run.fault == Fault::Corrupt && stream == 0 && s == kFaultSeq) buf.mtext()[len - 1] ^= 0x20;
    int copies = (run.fault == Fault::Duplicate && stream == 0 && s == kFaultSeq) ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      if (!send(type, len)) {
        report(t, m, "producer " + std::to_string(id) + ": msgsnd failed: " + std::strerror(errno));
        return kWorkerViolation;
      }
      t.progress.fetch_add(1);
      t.sent.fetch_add(1);
    }
    ++s;
  }
  for (unsigned k = 0; k < kTypes; ++k) sent[id * kTypes + k].store(seq[k]);
  return kWorkerOk;
}

int consumer(Consumer const& c, Params const& p, int qid, Tally& t, ExactlyOnce const& once, Metrics const& m) {
  fx::BigMsgBuf buf(p.max_size + 1);
  std::map<uint32_t, uint64_t> next;  // per stream: the smallest seq still acceptable
  OrderChecker order;                 // exclusive consumers: gapless
  bool bad = false;
  auto fail = [&](std::string const& what) {
    report(t, m, c.name + ": " + what);
    bad = true;
  };
  for (;;) {
    ssize_t n = ::msgrcv(qid, buf.get(), p.max_size + 1, c.msgtyp, c.flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      // The parent removes the queue once every record has been received.
      if (errno == EIDRM || errno == EINVAL) break;
      fail(std::string("msgrcv failed: ") + std::strerror(errno));
      break;
    }
    t.progress.fetch_add(1);
    auto* rec = reinterpret_cast<unsigned char const*>(buf.mtext());
    long type = buf.mtype();
    std::string why;
    if (size_t(n) < kHeader) {
      fail("message of type " + std::to_string(type) + " is " + std::to_string(n) + " bytes, shorter than a record header");
      continue;
    }
    if (!check_record(rec, size_t(n), &why)) {
      fail("type " + std::to_string(type) + ": " + why);
      continue;
    }
    RecordHeader h;
    std::memcpy(&h, rec, kHeader);
    long want_type = long(h.writer % kTypes) + 1;
    std::string id = "record producer " + std::to_string(h.writer / kTypes) + " type " + std::to_string(want_type) +
                     " seq " + std::to_string(h.seq);
    if (h.writer >= p.producers * kTypes) fail(id + ": unknown stream " + std::to_string(h.writer));
    if (type != want_type) fail(id + " arrived with mtype " + std::to_string(type));
    if (!c.selects(type)) fail(id + ": mtype " + std::to_string(type) + " is not selected by this msgtyp");
    switch (once.mark(h.writer, h.seq)) {
      case ExactlyOnce::kNew: break;
      case ExactlyOnce::kDuplicate: fail(id + " received twice (duplicate)"); break;
      case ExactlyOnce::kOutOfRange: fail(id + ": sequence number out of range"); break;
    }
    if (c.exclusive) {
      if (!order.accept(h.writer, h.seq, &why)) fail(id + ": FIFO within the type broken: " + why);
    } else {
      uint64_t& nx = next[h.writer];
      if (h.seq < nx)
        fail(id + " after seq " + std::to_string(nx - 1) + " of the same stream (older record taken later)");
      nx = h.seq + 1;
    }
    t.records.fetch_add(1);
    t.bytes.fetch_add(uint64_t(n));
  }
  return bad ? kWorkerViolation : kWorkerOk;
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main([&] {
    Options d;
    d.writers = 4;
    d.records = 15000;
    d.size = 512;
    Run run(argc, argv, d);
    Params p{run.opt.writers, run.opt.records, run.opt.size, size_t(std::stoul(run.extra("qbytes", "2048")))};
    run.no_more_options();
    if (p.max_size < kHeader || p.max_size > p.qbytes || p.producers == 0 || p.records == 0)
      throw SetupError("need writers > 0, records > 0 and a record size in [header, qbytes]");
    if (run.fault != Fault::None && run.fault != Fault::Skip && run.fault != Fault::Corrupt &&
        run.fault != Fault::Duplicate)
      throw SetupError("sysv-msg injects skip, corrupt or duplicate");

    for (Config const& cfg : configs()) {
      if (!run.selected(cfg.variant)) continue;
      Metrics base;
      base.mechanism = "sysv-msg";
      base.variant = cfg.variant;
      base.processes = p.producers + unsigned(cfg.consumers.size());
      base.record_size = p.max_size;
      run.configuration(base, [&](Metrics& m) {
        SharedArray<Tally> tally(1);
        Tally& t = tally[0];
        SharedArray<std::atomic<uint64_t>> sent(p.producers * kTypes);
        ExactlyOnce once(p.producers * kTypes, p.records + 1);

        fx::MsgQueue q = fx::make_msg_queue();
        // A small queue: senders block while consumers catch up (msgsnd(2): msg_qbytes).
        msqid_ds ds = fx::msg_stat(q.get());
        ds.msg_qbytes = p.qbytes;
        fx::msg_set(q.get(), ds);

        Workers w;
        for (auto const& c : cfg.consumers)
          w.spawn(c.name, [&, c] { return worker_main([&] { return consumer(c, p, q.get(), t, once, m); }); });
        size_t first_producer = w.size();
        for (uint32_t i = 0; i < p.producers; ++i)
          w.spawn("producer " + std::to_string(i),
                  [&, i] { return worker_main([&] { return producer(run, p, q.get(), i, t, sent, m); }); });
        w.wait_all(run, m, t, run.wait, {}, first_producer);

        // Every record sent: wait (while consumers make progress) until all are received,
        // then removing the queue ends the consumers (msgrcv fails with EIDRM).
        uint64_t total = t.sent.load();
        auto d = fx::deadline(run.wait);
        uint64_t seen = t.records.load();
        fx::Backoff b;
        while (run.completed && t.records.load() + t.violations.load() < total) {
          if (t.records.load() != seen) {
            seen = t.records.load();
            d = fx::deadline(run.wait);
          }
          if (d.expired()) break;
          b.pause();
        }
        if (run.completed) {
          msqid_ds after = fx::msg_stat(q.get());
          if (after.msg_qnum != 0)
            report(t, m, std::to_string(after.msg_qnum) + " messages still queued after every sent record was received" +
                             " or the wait ran out (" + std::to_string(t.records.load()) + " of " +
                             std::to_string(total) + " verified)");
        }
        q.reset();
        w.wait_all(run, m, t, run.wait, [&t] { return t.records.load(); }, 0, first_producer);

        if (run.completed) {
          for (uint32_t s = 0; s < p.producers * kTypes; ++s) {
            auto miss = once.missing(s, sent[s].load());
            for (uint64_t seq : miss)
              report(t, m, "record producer " + std::to_string(s / kTypes) + " type " + std::to_string(s % kTypes + 1) +
                               " seq " + std::to_string(seq) + " never received (lost)");
          }
        }
        m.records += t.records.load();
        m.bytes += t.bytes.load();
        m.violations += t.violations.load();
        if (t.full.load() > 0 && m.violations == 0 && run.opt.seconds <= 0)
          std::cerr << "sysv-msg/" << cfg.variant << ": senders found the queue full " << t.full.load()
                    << " times and blocked\n";
      });
    }
    return run.verdict();
  });
}
