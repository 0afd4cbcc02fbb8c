# Warning flags for every ropecheck target; -Werror when ROPECHECK_WERROR,
# sanitizers when ROPECHECK_SANITIZE. Applied per target, never globally.
function(ropecheck_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wno-unused-parameter)
  if(ROPECHECK_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ROPECHECK_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
