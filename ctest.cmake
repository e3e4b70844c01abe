# ctest -S ctest.cmake: configure, build, run and report in one go.
#
#   ctest -S ctest.cmake [-D OPTION=VALUE ...]
#
# Options (all optional):
#   IPCSUITE_BUILD_DIR   build directory                    (default: <source>/build)
#   IPCSUITE_LABELS      ctest label regex to run            (default: conformance)
#   IPCSUITE_EXCLUDE     ctest label regex to leave out      (default: none)
#   IPCSUITE_JOBS        parallel tests                      (default: 8)
#   IPCSUITE_REPEAT      run each test up to N times until it fails (default: 1)
#   IPCSUITE_TARGET      name of the target in the report    (default: native)
#   IPCSUITE_REPORT_DIR  where report.md and report.json go  (default: <build>/report-<target>)
#   IPCSUITE_EXPECT      expectations file of the gate       (default: reports/expectations/<target>.json)
#
# Exits non-zero when the build fails or the gate does: a behaviour failed that the
# expectations file does not list, or an expectation did not come true.
cmake_minimum_required(VERSION 3.21)

set(CTEST_SOURCE_DIRECTORY "${CMAKE_CURRENT_LIST_DIR}")
foreach(opt IN ITEMS BUILD_DIR:${CTEST_SOURCE_DIRECTORY}/build LABELS:conformance EXCLUDE: JOBS:8
                     REPEAT:1 TARGET:native)
  string(REPLACE ":" ";" kv "${opt}")
  list(GET kv 0 k)
  list(LENGTH kv n)
  if(n GREATER 1)
    list(GET kv 1 v)
  else()
    set(v "")
  endif()
  if(NOT DEFINED IPCSUITE_${k})
    set(IPCSUITE_${k} "${v}")
  endif()
endforeach()
if(NOT DEFINED IPCSUITE_EXPECT)
  set(IPCSUITE_EXPECT "${CTEST_SOURCE_DIRECTORY}/reports/expectations/${IPCSUITE_TARGET}.json")
endif()
if(NOT DEFINED IPCSUITE_REPORT_DIR)
  set(IPCSUITE_REPORT_DIR "${IPCSUITE_BUILD_DIR}/report-${IPCSUITE_TARGET}")
endif()

set(CTEST_BINARY_DIRECTORY "${IPCSUITE_BUILD_DIR}")
set(CTEST_CMAKE_GENERATOR "Unix Makefiles")
set(CTEST_BUILD_NAME "${IPCSUITE_TARGET}")
cmake_host_system_information(RESULT CTEST_SITE QUERY HOSTNAME)
cmake_host_system_information(RESULT ncpu QUERY NUMBER_OF_LOGICAL_CORES)
set(CTEST_BUILD_FLAGS "-j${ncpu}")

ctest_start(Experimental)
ctest_configure(RETURN_VALUE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed")
endif()
ctest_build(RETURN_VALUE rc NUMBER_ERRORS nerr)
if(NOT rc EQUAL 0 OR nerr GREATER 0)
  message(FATAL_ERROR "build failed")
endif()

set(junit "${IPCSUITE_BUILD_DIR}/junit-${IPCSUITE_TARGET}.xml")
set(test_args INCLUDE_LABEL "${IPCSUITE_LABELS}" PARALLEL_LEVEL ${IPCSUITE_JOBS} OUTPUT_JUNIT "${junit}")
if(NOT IPCSUITE_EXCLUDE STREQUAL "")
  list(APPEND test_args EXCLUDE_LABEL "${IPCSUITE_EXCLUDE}")
endif()
if(IPCSUITE_REPEAT GREATER 1)
  list(APPEND test_args REPEAT UNTIL_FAIL:${IPCSUITE_REPEAT})
endif()
ctest_test(${test_args} RETURN_VALUE test_rc)

set(expect_args)
if(EXISTS "${IPCSUITE_EXPECT}")
  set(expect_args --expect "${IPCSUITE_EXPECT}")
else()
  message(WARNING "No expectations file ${IPCSUITE_EXPECT}: the gate is not applied, any failure fails.")
endif()
execute_process(
  COMMAND "${IPCSUITE_BUILD_DIR}/bin/ipcsuite-report" --junit "${junit}" --behaviours "${IPCSUITE_BUILD_DIR}"
          --out "${IPCSUITE_REPORT_DIR}" --target "${IPCSUITE_TARGET}" ${expect_args}
  RESULT_VARIABLE report_rc)
message("Report: ${IPCSUITE_REPORT_DIR}/report.md and report.json")
if(report_rc EQUAL 1)
  message(FATAL_ERROR "The gate failed (see above).")
elseif(NOT report_rc EQUAL 0)
  message(FATAL_ERROR "ipcsuite-report failed.")
elseif(NOT expect_args AND NOT test_rc EQUAL 0)
  message(FATAL_ERROR "Some behaviours did not hold on this target (see above).")
endif()
