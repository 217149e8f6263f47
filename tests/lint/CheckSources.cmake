# Source rules that a compiler cannot check (DESIGN.md, STYLE.md), run as a CTest:
#   cmake -DROOT=<repo> -P CheckSources.cmake
# Fails with a list of offending files.
cmake_minimum_required(VERSION 3.25)
set(problems "")

# 1. The engine and the GPU backend never see Qt.
file(GLOB_RECURSE engine_sources ${ROOT}/host/*.h ${ROOT}/host/*.cpp ${ROOT}/gpu/*.h ${ROOT}/gpu/*.cpp ${ROOT}/gpu/*.cu)
foreach(f ${engine_sources})
    file(STRINGS ${f} hits REGEX "#[ \t]*include[ \t]*<Q")
    if(hits)
        string(APPEND problems "  Qt include in engine/GPU code: ${f}\n")
    endif()
    # 2. Libraries never end the process or print; they throw (STYLE.md rule 7).
    file(STRINGS ${f} hits REGEX "(^|[^a-z_])(exit|abort|_Exit|quick_exit|f?printf|puts)[ \t]*\\(|std::cerr|std::cout")
    if(hits)
        string(APPEND problems "  exit/abort/printing in library code: ${f}: ${hits}\n")
    endif()
endforeach()

# 3. CUDA headers and .cu files live only in gpu/src.
file(GLOB_RECURSE all_sources ${ROOT}/host/* ${ROOT}/cli/* ${ROOT}/tests/*.cpp ${ROOT}/tests/*.h ${ROOT}/gpu/include/*)
foreach(f ${all_sources})
    if(f MATCHES "\\.cu$")
        string(APPEND problems "  .cu file outside gpu/src: ${f}\n")
    endif()
    if(f MATCHES "\\.(h|cpp)$")
        file(STRINGS ${f} hits REGEX "#[ \t]*include[ \t]*<(cuda|cufft|cub/|thrust/)")
        if(hits)
            string(APPEND problems "  CUDA header outside gpu/src: ${f}\n")
        endif()
    endif()
endforeach()

# 4. IEEE arithmetic everywhere (non-negotiable 7).
file(GLOB_RECURSE build_files ${ROOT}/CMakeLists.txt ${ROOT}/CMakePresets.json ${ROOT}/host/CMakeLists.txt
     ${ROOT}/gpu/CMakeLists.txt ${ROOT}/cli/CMakeLists.txt ${ROOT}/tests/CMakeLists.txt ${ROOT}/scripts/*)
foreach(f ${build_files})
    file(STRINGS ${f} hits REGEX "-ffast-math|--use_fast_math|-Ofast")
    foreach(line ${hits})
        if(NOT line MATCHES "^[ \t]*#")  # comments may name the flags they forbid
            string(APPEND problems "  fast-math flag: ${f}: ${line}\n")
        endif()
    endforeach()
endforeach()

# 5. lathe/math headers stay C++17 and device-clean: only <cmath>, <cstdint>, <cstddef> and each other.
file(GLOB math_headers ${ROOT}/host/include/lathe/math/*.h)
foreach(f ${math_headers})
    file(STRINGS ${f} includes REGEX "#[ \t]*include")
    foreach(line ${includes})
        if(NOT line MATCHES "<(cmath|cstdint|cstddef|lathe/math/[A-Za-z]+\\.h)>")
            string(APPEND problems "  disallowed include in lathe/math: ${f}: ${line}\n")
        endif()
    endforeach()
endforeach()

if(problems)
    message(FATAL_ERROR "Source rules violated:\n${problems}")
endif()
message(STATUS "source rules: ok (${CMAKE_CURRENT_LIST_FILE})")
