// Running rapidcheck properties as behaviours. Only property/ includes rapidcheck.
//
//   BEHAVIOUR("pipe.model.byte-stream-matches-model", "[linux-specific]", "...", "...") {
//     REQUIRE(prop::check("pipe byte stream", [] { ... rapidcheck property ... }));
//   }
//
// A failure prints rapidcheck's counterexample (the shrunk operation sequence) and the
// command that replays it: RC_PARAMS="reproduce=..." ctest -R '^<id>$' --output-on-failure.
// RC_PARAMS also raises iteration counts for long runs (max_success=10000).
#pragma once

#include <catch2/catch.hpp>
#include <rapidcheck.h>

#include <cstdlib>
#include <iostream>
#include <string>

namespace prop {

// The id of the running behaviour, for the replay line.
inline std::string current_id() { return Catch::getResultCapture().getCurrentTestName(); }

// rc::check with the replay command printed on failure. rapidcheck itself prints the
// configuration (seed) before the run and the counterexample after a failure.
template <class Testable>
bool check(std::string const& description, Testable&& testable) {
  bool ok = rc::check(description, std::forward<Testable>(testable));
  if (!ok) {
    std::cout << "replay: RC_PARAMS=\"<the reproduce= string rapidcheck printed above, or seed=N>\" "
              << "ctest -R '^" << current_id() << "$' --output-on-failure\n"
              << "   or: RC_PARAMS=\"...\" <build>/bin/<property binary> '" << current_id() << "'" << std::endl;
  }
  return ok;
}

}  // namespace prop
