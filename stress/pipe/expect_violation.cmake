# Runs CMD (a list) and passes only when it exits 1 with a VIOLATION line on stderr: the
# stress checker, given a fault on purpose (--inject-fault), must catch it. CMD's words are
# separated by '|' (a ';' list would be split into separate arguments by add_test).
string(REPLACE "|" ";" CMD "${CMD}")
execute_process(COMMAND ${CMD} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc STREQUAL "1")
  message(FATAL_ERROR "expected exit status 1 (violation detected), got ${rc}")
endif()
if(NOT err MATCHES "VIOLATION")
  message(FATAL_ERROR "exit status 1 but no VIOLATION line on stderr")
endif()
message("the injected fault was detected, as it must be")
