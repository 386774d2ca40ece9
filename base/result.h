// The one Result alias: a value or an Error that must be looked at.
#pragma once

#include <expected>

#include "base/error.h"

namespace lu {

template <class T>
using Result = std::expected<T, Error>;

using Status = Result<void>;

inline std::unexpected<Error> fail(Error e) { return std::unexpected<Error>(std::move(e)); }

inline std::unexpected<Error> fail(ErrorKind kind, std::string op, std::string subject,
                                   std::string hint, int err = 0) {
  return std::unexpected<Error>(
      make_error(kind, std::move(op), std::move(subject), std::move(hint), err));
}

}  // namespace lu

// Propagate an error from an expression returning Result<T>; yields the value.
#define LU_TRY(expr)                                                   \
  ({                                                                   \
    auto lu_try_result_ = (expr);                                      \
    if (!lu_try_result_) return std::unexpected(lu_try_result_.error()); \
    std::move(*lu_try_result_);                                        \
  })

#define LU_TRY_VOID(expr)                                              \
  do {                                                                 \
    auto lu_try_result_ = (expr);                                      \
    if (!lu_try_result_) return std::unexpected(lu_try_result_.error()); \
  } while (0)
