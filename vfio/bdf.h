// A PCI address in the one form lu-test accepts: `DDDD:BB:DD.F`, lowercase hex.
// The string is joined into sysfs paths, so it is validated strictly before any use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace lu::vfio {

class Bdf {
 public:
  // Accepts exactly `DDDD:BB:DD.F` (12 characters; hex digits of either case; device <= 0x1f;
  // function 0..7). Anything else, including `..`, `/`, NULs, spaces and the short `BB:DD.F`
  // form, is kInvalidInput with a hint showing the expected form.
  static Result<Bdf> parse(std::string_view text);

  std::uint16_t domain() const { return domain_; }
  std::uint8_t bus() const { return bus_; }
  std::uint8_t device() const { return device_; }
  std::uint8_t function() const { return function_; }
  // Canonical lowercase form, as sysfs spells it: "0000:00:04.0".
  const std::string& str() const { return text_; }

  friend bool operator==(const Bdf& a, const Bdf& b) { return a.text_ == b.text_; }

 private:
  Bdf() = default;
  std::uint16_t domain_ = 0;
  std::uint8_t bus_ = 0, device_ = 0, function_ = 0;
  std::string text_;
};

}  // namespace lu::vfio
