// Assertions on Status / Result that print the error's message when they fail.
#pragma once

#include <gtest/gtest.h>

#define LU_ASSERT_OK(expr)                                                \
  do {                                                                    \
    auto lu_ok_ = (expr);                                                 \
    ASSERT_TRUE(lu_ok_) << #expr << ": " << lu_ok_.error().message();     \
  } while (0)

#define LU_EXPECT_OK(expr)                                                \
  do {                                                                    \
    auto lu_ok_ = (expr);                                                 \
    EXPECT_TRUE(lu_ok_) << #expr << ": " << lu_ok_.error().message();     \
  } while (0)
