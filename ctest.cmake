# ctest -S ctest.cmake: configure, build, run, report and gate in one go.
#
#   ctest -S ctest.cmake [-D OPTION=VALUE ...]
#
# Options (all optional):
#   IPCSUITE_BUILD_DIR   build directory                          (default: <source>/build)
#   IPCSUITE_TARGET      where the tests run: native, ipc-namespace, qemu-user, container,
#                        custom (with IPCSUITE_WRAPPER)            (default: native)
#   IPCSUITE_TARGETS     several targets, ;-separated: each is run, reported and gated, and a
#                        comparison of all of them is written       (default: IPCSUITE_TARGET)
#   IPCSUITE_WRAPPER     the wrapper command of the custom target, e.g. "bwrap;--dev-bind;/;/;--"
#   IPCSUITE_LABELS      ctest label regex to run                  (default: conformance)
#   IPCSUITE_EXCLUDE     ctest label regex to leave out            (default: none)
#   IPCSUITE_JOBS        parallel tests                            (default: 8)
#   IPCSUITE_REPEAT      run each test up to N times until it fails (default: 1)
#   IPCSUITE_REPORT_DIR  where report-<target>/ and compare/ go    (default: <build>)
#   IPCSUITE_EXPECT_DIR  expectation files <target>.json           (default: reports/expectations)
#   IPCSUITE_CDASH       ON: submit to the CDash server of CTestConfig.cmake / CTEST_DROP_* (default: OFF)
#
# Writes <report dir>/report-<target>/{report.md,report.html,report.json,gate.md} and, with
# several targets, <report dir>/compare/{compare.md,compare.html,compare.json}.
# Exits non-zero when the build fails or a gate does: a behaviour failed that the target's
# expectations file does not list, or an expectation did not come true.
cmake_minimum_required(VERSION 3.21)

set(CTEST_SOURCE_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}")
macro(default var value)
  if(NOT DEFINED ${var})
    set(${var} "${value}")
  endif()
endmacro()
default(IPCSUITE_BUILD_DIR "${CTEST_SOURCE_DIRECTORY}/build")
default(IPCSUITE_TARGET native)
default(IPCSUITE_TARGETS "${IPCSUITE_TARGET}")
default(IPCSUITE_WRAPPER "")
default(IPCSUITE_LABELS conformance)
default(IPCSUITE_EXCLUDE "")
default(IPCSUITE_JOBS 8)
default(IPCSUITE_REPEAT 1)
default(IPCSUITE_REPORT_DIR "${IPCSUITE_BUILD_DIR}")
default(IPCSUITE_EXPECT_DIR "${CTEST_SOURCE_DIRECTORY}/reports/expectations")
default(IPCSUITE_CDASH OFF)

set(CTEST_BINARY_DIRECTORY "${IPCSUITE_BUILD_DIR}")
set(CTEST_CMAKE_GENERATOR "Unix Makefiles")
string(REPLACE ";" "+" CTEST_BUILD_NAME "${IPCSUITE_TARGETS}")
cmake_host_system_information(RESULT CTEST_SITE QUERY HOSTNAME)
cmake_host_system_information(RESULT ncpu QUERY NUMBER_OF_LOGICAL_CORES)
set(CTEST_BUILD_FLAGS "-j${ncpu}")

ctest_start(Experimental)
set(config_options)
if(NOT IPCSUITE_WRAPPER STREQUAL "")
  string(REPLACE ";" "\\;" wrapper "${IPCSUITE_WRAPPER}")
  list(APPEND config_options "-DIPCSUITE_WRAPPER=${wrapper}")
endif()
ctest_configure(OPTIONS "${config_options}" RETURN_VALUE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed")
endif()
ctest_build(RETURN_VALUE rc NUMBER_ERRORS nerr)
if(NOT rc EQUAL 0 OR nerr GREATER 0)
  message(FATAL_ERROR "build failed")
endif()

set(failed_gates)
set(reports)
foreach(target IN LISTS IPCSUITE_TARGETS)
  message("== target ${target}")
  # bin/ipcsuite-target reads this: one build serves every target.
  set(ENV{IPCSUITE_TARGET} "${target}")
  if(NOT IPCSUITE_WRAPPER STREQUAL "")
    string(REPLACE ";" " " words "${IPCSUITE_WRAPPER}")
    set(ENV{IPCSUITE_WRAPPER} "${words}")
  endif()
  set(junit "${IPCSUITE_REPORT_DIR}/junit-${target}.xml")
  set(test_args INCLUDE_LABEL "${IPCSUITE_LABELS}" PARALLEL_LEVEL ${IPCSUITE_JOBS} OUTPUT_JUNIT "${junit}")
  if(NOT IPCSUITE_EXCLUDE STREQUAL "")
    list(APPEND test_args EXCLUDE_LABEL "${IPCSUITE_EXCLUDE}")
  endif()
  if(IPCSUITE_REPEAT GREATER 1)
    list(APPEND test_args REPEAT UNTIL_FAIL:${IPCSUITE_REPEAT})
  endif()
  ctest_test(${test_args} RETURN_VALUE test_rc)
  if(IPCSUITE_CDASH)
    ctest_submit()
  endif()

  set(expect "${IPCSUITE_EXPECT_DIR}/${target}.json")
  set(expect_args)
  if(EXISTS "${expect}")
    set(expect_args --expect "${expect}")
  else()
    message(WARNING "No expectations file ${expect}: no gate for ${target}; any failure fails.")
  endif()
  set(out "${IPCSUITE_REPORT_DIR}/report-${target}")
  execute_process(
    COMMAND "${IPCSUITE_BUILD_DIR}/bin/ipcsuite-report" --junit "${junit}" --behaviours "${IPCSUITE_BUILD_DIR}"
            --out "${out}" --target "${target}" ${expect_args}
    RESULT_VARIABLE report_rc)
  list(APPEND reports "${out}/report.json")
  if(report_rc EQUAL 1 OR (NOT expect_args AND NOT test_rc EQUAL 0))
    list(APPEND failed_gates ${target})
  elseif(NOT report_rc EQUAL 0)
    message(FATAL_ERROR "ipcsuite-report failed for ${target}")
  endif()
endforeach()

list(LENGTH reports nreports)
if(nreports GREATER 1)
  execute_process(COMMAND "${IPCSUITE_BUILD_DIR}/bin/ipcsuite-report" --compare ${reports}
                          --out "${IPCSUITE_REPORT_DIR}/compare")
endif()
if(failed_gates)
  message(FATAL_ERROR "The gate failed for: ${failed_gates} (see above).")
endif()
