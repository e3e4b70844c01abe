// sysv-msg.interleave.*: receivers of different msgtyp blocked on one System V queue, and
// senders arriving, driven in schedules that rapidcheck chooses (controller.hpp).
//
// msgop(2) says which message a receiver takes (msgtyp 0: the first; > 0: the first of that
// type, or with MSG_EXCEPT the first of another type; < 0: the first of the lowest type
// <= |msgtyp|) and that a receiver finding none sleeps until a message of the requested type
// is placed in the queue. It does not say which of several waiting receivers a new message
// goes to: Linux hands it to the longest-waiting receiver whose msgtyp matches, directly,
// without queueing it (ipc/msg.c pipelined_send walks q_receivers, to whose tail each
// sleeping receiver is added). That order is Linux's, hence [linux-specific].
#include "controller.hpp"
#include "fx/behaviour.hpp"
#include "fx/sysv.hpp"
#include "fx/sysv_msg.hpp"
#include "rc_support.hpp"

#include <sys/msg.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <deque>
#include <sstream>
#include <ostream>
#include <string>
#include <vector>

using interleave::Command;
using interleave::Completion;
using interleave::Result;

namespace {

enum Op { kSend = 0, kRecv = 1 };
enum Flag { kNone = 0, kExcept = 1, kNowait = 2 };

struct MsgStep {
  int worker = 0;  // preferred worker; the first idle one from there does the step
  Op op = kSend;
  long type = 1;   // msgsnd: mtype (1..3); msgrcv: msgtyp (-3..3)
  Flag flag = kNone;
};

void showValue(MsgStep const& s, std::ostream& os) {
  os << interleave::worker_name(s.worker);
  if (s.op == kSend) {
    os << " msgsnd(type " << s.type << ")";
  } else {
    os << " msgrcv(msgtyp " << s.type;
    if (s.flag == kExcept) os << ", MSG_EXCEPT";
    if (s.flag == kNowait) os << ", IPC_NOWAIT";
    os << ")";
  }
}

rc::Gen<MsgStep> msg_step() {
  return rc::gen::apply(
      [](int w, int kind, int stype, int rtype, int flag) {
        MsgStep s;
        s.worker = w;
        s.op = kind < 5 ? kSend : kRecv;
        s.type = s.op == kSend ? stype : rtype;
        // MSG_EXCEPT only means something with msgtyp > 0 (msgop(2)).
        s.flag = flag == 9 ? kNowait : (flag == 8 && s.op == kRecv && rtype > 0) ? kExcept : kNone;
        return s;
      },
      rc::gen::inRange(0, interleave::kMaxWorkers), rc::gen::inRange(0, 10), rc::gen::inRange(1, 4),
      rc::gen::inRange(-3, 4), rc::gen::inRange(0, 10));
}

// Which waiting receiver a new message goes to: the documented-by-code Linux order, or a
// deliberately wrong one for the can-fail behaviour.
enum class Order { Fifo, Lifo };

struct Msg {
  long type;
  std::string text;
};

struct Waiter {
  int worker;
  long msgtyp;
  Flag flag;
};

// msgop(2): does a message of this type satisfy a receiver asking for msgtyp?
bool matches(long msgtyp, Flag flag, long type) {
  if (msgtyp == 0) return true;
  if (msgtyp > 0) return flag == kExcept ? type != msgtyp : type == msgtyp;
  return type <= -msgtyp;
}

struct Model {
  Order order;
  std::deque<Msg> queue;
  std::vector<Waiter> waiting;  // in the order they went to sleep

  static Result received(Msg const& m) {
    Result r;
    r.rv = static_cast<long>(m.text.size());
    r.aux = m.type;
    r.len = static_cast<int>(m.text.size());
    std::memcpy(r.data, m.text.data(), m.text.size());
    return r;
  }

  // The calls that return when worker w performs s (the message text is text).
  std::vector<Completion> apply(int w, MsgStep const& s, std::string const& text) {
    std::vector<Completion> out;
    if (s.op == kSend) {
      Msg m{s.type, text};
      out.push_back({w, Result{}});  // msgsnd returns 0 (the queue never fills here)
      auto take = [&](size_t i) {
        out.push_back({waiting[i].worker, received(m)});
        waiting.erase(waiting.begin() + static_cast<long>(i));
      };
      bool handed = false;
      if (order == Order::Fifo) {
        for (size_t i = 0; i < waiting.size() && !handed; ++i)
          if (matches(waiting[i].msgtyp, waiting[i].flag, m.type)) { take(i); handed = true; }
      } else {
        for (size_t i = waiting.size(); i-- > 0 && !handed;)
          if (matches(waiting[i].msgtyp, waiting[i].flag, m.type)) { take(i); handed = true; }
      }
      if (!handed) queue.push_back(m);
    } else {
      // msgop(2): the first matching message; for msgtyp < 0 the first of the lowest type.
      long best = -1;
      for (size_t i = 0; i < queue.size(); ++i) {
        if (!matches(s.type, s.flag, queue[i].type)) continue;
        if (s.type >= 0) { best = static_cast<long>(i); break; }
        if (best < 0 || queue[i].type < queue[best].type) best = static_cast<long>(i);
      }
      if (best >= 0) {
        out.push_back({w, received(queue[best])});
        queue.erase(queue.begin() + best);
      } else if (s.flag == kNowait) {
        Result r;
        r.rv = -1;
        r.err = ENOMSG;
        out.push_back({w, r});
      } else {
        waiting.push_back({w, s.type, s.flag});
      }
    }
    std::sort(out.begin(), out.end(), [](Completion const& a, Completion const& b) { return a.worker < b.worker; });
    return out;
  }
};

void run_schedule(Order order) {
  const int n = *rc::gen::inRange(2, interleave::kMaxWorkers + 1);
  const auto steps = *rc::gen::resize(12, rc::gen::container<std::vector<MsgStep>>(rc::gen::resize(100, msg_step())));

  // Per run: a fresh queue, removed on every path out (also while rapidcheck shrinks).
  fx::MsgQueue q = fx::make_msg_queue();
  const int qid = q.get();
  interleave::Controller ctl(n, [qid](int, Command const& c) {
    fx::MsgBuf<interleave::kDataBytes> buf;
    Result r;
    if (c.op == kSend) {
      buf.mtype = c.arg[0];
      std::memcpy(buf.mtext, c.data, static_cast<size_t>(c.len));
      r.rv = ::msgsnd(qid, &buf, static_cast<size_t>(c.len), 0);
    } else {
      r.rv = ::msgrcv(qid, &buf, sizeof buf.mtext, c.arg[0], static_cast<int>(c.arg[1]));
      if (r.rv >= 0) {
        r.aux = buf.mtype;
        r.len = static_cast<int>(r.rv);
        std::memcpy(r.data, buf.mtext, static_cast<size_t>(r.rv));
      }
    }
    r.err = r.rv == -1 ? errno : 0;
    return r;
  });

  Model model{order, {}, {}};
  std::string transcript;
  for (size_t i = 0; i < steps.size(); ++i) {
    MsgStep s = steps[i];
    s.worker = ctl.idle_from(s.worker % n);
    if (s.worker < 0) break;  // every worker is asleep in msgrcv: nothing can act any more
    Command c;
    c.op = s.op;
    c.arg[0] = s.type;
    c.arg[1] = s.flag == kExcept ? MSG_EXCEPT : s.flag == kNowait ? IPC_NOWAIT : 0;
    std::string text = "m" + std::to_string(i);
    if (s.op == kSend) {
      c.len = static_cast<int>(text.size());
      std::memcpy(c.data, text.data(), text.size());
    }
    std::ostringstream line;
    line << "step " << i << ": ";
    showValue(s, line);
    if (s.op == kSend) line << " \"" << text << "\"";

    auto predicted = model.apply(s.worker, s, text);
    auto observed = ctl.step(s.worker, c, s.op == kSend ? SYS_msgsnd : SYS_msgrcv);
    transcript += line.str() + " -> " + interleave::describe(observed) + "\n";
    if (!interleave::same(predicted, observed))
      RC_FAIL(transcript + "the model predicts: " + interleave::describe(predicted));
    // msgctl(2) IPC_STAT: msg_qnum counts the messages on the queue (none handed over).
    const auto qnum = fx::msg_stat(qid).msg_qnum;
    if (qnum != model.queue.size())
      RC_FAIL(transcript + "msg_qnum is " + std::to_string(qnum) + ", the model holds " +
              std::to_string(model.queue.size()) + " messages");
  }
}

}  // namespace

BEHAVIOUR("sysv-msg.interleave.blocked-receivers-complete-as-model-predicts", "[linux-specific][interleave]",
          "in any schedule of msgsnd and msgrcv (msgtyp 0, > 0, < 0, MSG_EXCEPT, IPC_NOWAIT) by 2-4 "
          "processes, a receiver takes the message msgop(2) names or sleeps, and a new message goes "
          "to the longest-sleeping receiver whose msgtyp matches it, else onto the queue",
          "msgop(2) msgrcv (msgtyp, IPC_NOWAIT; blocks until a message of the requested type is "
          "placed in the queue); Linux ipc/msg.c pipelined_send (receivers served in arrival order)") {
  interleave::default_rc_params("max_success=100");
  REQUIRE(prop::check("sysv-msg: blocked receivers complete as the FIFO model predicts",
                      [] { run_schedule(Order::Fifo); }));
}

BEHAVIOUR("sysv-msg.interleave.blocked-receivers-complete-as-model-predicts-can-fail", "[linux-specific][interleave]",
          "the interleaving property for System V message queues finds a counterexample to a model "
          "that hands a new message to the most recently blocked matching receiver (LIFO)",
          "msgop(2) msgrcv; Linux ipc/msg.c pipelined_send (receivers served in arrival order)") {
  interleave::default_rc_params("max_success=300 noshrink=1");
  REQUIRE(prop::falsified("sysv-msg: a LIFO receiver model is refuted (a counterexample is expected)",
                          [] { run_schedule(Order::Lifo); }));
}
