// Running rapidcheck properties as behaviours. Only property/ includes rapidcheck.
//
//   BEHAVIOUR("pipe.model.byte-stream-matches-model", "[linux-specific]", "...", "...") {
//     REQUIRE(prop::check("pipe byte stream", [] { ... rapidcheck property ... }));
//   }
//   BEHAVIOUR("pipe.model.byte-stream-matches-model-can-fail", ...) {
//     REQUIRE(prop::falsified("pipe byte stream against a LIFO model", [] { ... }));
//   }
//
// A failing prop::check prints the seed of the run, rapidcheck's shrunk counterexample (with
// everything the property RC_LOG'ed while running it) and one command that replays exactly
// that counterexample:
//   replay: RC_PARAMS="reproduce=..." ctest --test-dir <build> -R '^<id>$' --output-on-failure
// The same line is attached to the failed REQUIRE, so Catch2's own message carries it too.
//
// RC_PARAMS (rapidcheck's configuration, read once per process) also sets the seed
// ("seed=N" reruns the same search) and raises the effort of long runs
// ("max_success=10000 max_size=200"). A reproduce= string only ever replays the property
// it was printed for (the key is "<behaviour id>/<description>"); every other property in
// the same process runs its normal search, so no property passes vacuously during a replay.
#pragma once

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/detail/Configuration.h>
#include <rapidcheck/detail/TestListener.h>

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>

namespace prop {

// The id of the running behaviour, for the replay line.
inline std::string current_id() { return Catch::getResultCapture().getCurrentTestName(); }

namespace detail {

// The key of a property in rapidcheck's reproduce map: unique per behaviour and property.
inline std::string key(std::string const& description) { return current_id() + "/" + description; }

inline std::string shell_quote(std::string const& s) {
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return o + "'";
}

inline std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

inline std::string dirname(std::string const& p) {
  auto slash = p.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : slash == 0 ? "/" : p.substr(0, slash);
}

// ctest regex for exactly this id (the dots escaped).
inline std::string exact_regex(std::string const& id) {
  std::string r = "^";
  for (char c : id) {
    if (std::string("\\.^$|()[]{}*+?").find(c) != std::string::npos) r += '\\';
    r += c;
  }
  return r + "$";
}

// The one command that replays a counterexample. Through ctest when the binary sits in
// <build>/bin next to the ctest files of <build> (the suite's layout): the same labels,
// timeout and skip markers as the failed run. Otherwise the binary itself, by absolute path.
inline std::string replay_command(std::string const& rc_params) {
  std::string exe = self_exe();
  std::string build = dirname(dirname(exe));
  std::string env = "RC_PARAMS=\"" + rc_params + "\" ";
  if (!exe.empty() && ::access((build + "/CTestTestfile.cmake").c_str(), R_OK) == 0)
    return env + "ctest --test-dir " + shell_quote(build) + " -R " +
           shell_quote(exact_regex(current_id())) + " --output-on-failure";
  return env + shell_quote(exe.empty() ? "<test binary>" : exe) + " " + shell_quote(current_id());
}

// rapidcheck's verbose_progress / verbose_shrinking settings, which its own global listener
// would honour. Unlike that listener it does not print a second reproduce line at exit
// (which would also fire for the expected failures of prop::falsified).
class Listener : public rc::detail::TestListener {
 public:
  explicit Listener(rc::detail::Configuration const& c) : c_(c) {}
  void onTestCaseFinished(rc::detail::CaseDescription const& d) override {
    if (!c_.verboseProgress) return;
    char m = '.';
    if (d.result.type == rc::detail::CaseResult::Type::Failure) m = '!';
    if (d.result.type == rc::detail::CaseResult::Type::Discard) m = 'x';
    std::cerr << m << std::flush;
  }
  void onShrinkTried(rc::detail::CaseDescription const&, bool accepted) override {
    if (c_.verboseShrinking) std::cerr << (accepted ? '!' : '.') << std::flush;
  }
  void onTestFinished(rc::detail::TestMetadata const&, rc::detail::TestResult const&) override {
    if (c_.verboseProgress || c_.verboseShrinking) std::cerr << std::endl;
  }

 private:
  rc::detail::Configuration const& c_;
};

// Runs the property under the global configuration; reproduces it instead when RC_PARAMS
// carries a reproduce= entry for this very property.
template <class Testable>
rc::detail::TestResult run(std::string const& description, Testable&& testable) {
  using namespace rc::detail;
  Configuration const& config = configuration();
  TestMetadata md;
  md.id = key(description);
  md.description = description;
  std::unordered_map<std::string, Reproduce> replay;
  if (auto it = config.reproduce.find(md.id); it != config.reproduce.end()) replay.insert(*it);
  Listener listener(config);
  return checkProperty(toProperty(std::forward<Testable>(testable)), md, config.testParams,
                       listener, replay);
}

inline std::string message(rc::detail::TestResult const& r) {
  std::ostringstream os;
  rc::detail::printResultMessage(r, os);
  return os.str();
}

inline std::string reproduce_params(std::string const& description,
                                    rc::detail::Reproduce const& r) {
  rc::detail::Configuration c;
  c.reproduce.emplace(key(description), r);
  // Only the reproduce= entry: it alone fixes the case (the seed and the iteration counts
  // do not matter to a replay).
  std::istringstream words(rc::detail::configToMinimalString(c));
  for (std::string w; words >> w;)
    if (w.rfind("reproduce=", 0) == 0) return w;
  return rc::detail::configToMinimalString(c);
}

}  // namespace detail

// rc::check for behaviours: true when the property held (or the replayed case passed). On a
// failure prints the seed, the shrunk counterexample and the replay command (stdout), and
// attaches the replay command to the next Catch2 assertion.
template <class Testable>
bool check(std::string const& description, Testable&& testable) {
  using namespace rc::detail;
  auto const& config = configuration();
  std::cout << "property: " << description << std::endl;
  TestResult result = detail::run(description, std::forward<Testable>(testable));
  std::string msg = detail::message(result);
  FailureResult failure;
  if (!result.match(failure)) {
    std::cout << msg << std::endl;
    return result.is<SuccessResult>();  // GaveUp (too many RC_PRE discards) and Error fail
  }
  std::string cmd = detail::replay_command(detail::reproduce_params(description, failure.reproduce));
  std::cout << "property falsified: " << description << "\n"
            << "seed: " << config.testParams.seed << "\n"
            << msg << "\n"
            << "replay: " << cmd << std::endl;
  // Catch2 wraps long messages (inserting '-' into the base64 string), so the assertion's
  // message points to the replay line instead of repeating it.
  UNSCOPED_INFO("property falsified: " << description << " (seed " << config.testParams.seed
                                       << "); counterexample and the replay command (the line "
                                          "starting with \"replay:\") are printed above");
  return false;
}

// For the can-fail twin of a property: the same property against a deliberately wrong model
// must be falsified. True when rapidcheck found (and shrank) a counterexample, which is
// printed as evidence; false when the wrong model survived the whole search, i.e. the
// property could not tell a wrong model from the kernel.
//   REQUIRE(prop::falsified("pipe byte stream against a LIFO model", [] { ... }));
template <class Testable>
bool falsified(std::string const& description, Testable&& testable) {
  using namespace rc::detail;
  std::cout << "property (must be falsified): " << description << std::endl;
  TestResult result = detail::run(description, std::forward<Testable>(testable));
  std::string msg = detail::message(result);
  if (result.is<FailureResult>()) {
    std::cout << "falsified as required; the wrong model's counterexample:\n" << msg << std::endl;
    return true;
  }
  std::cout << msg << "\n"
            << "NOT falsified: the property cannot tell this wrong model from the kernel "
            << "(seed " << configuration().testParams.seed << ")" << std::endl;
  UNSCOPED_INFO("the wrong model was never falsified: " << description);
  return false;
}

}  // namespace prop
