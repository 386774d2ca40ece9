#include "vfio/bdf.h"

#include <cstdio>

namespace lu::vfio {
namespace {

constexpr std::size_t kBdfLength = 12;  // "DDDD:BB:DD.F"

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses `count` hex digits at `pos`; -1 if any is not a hex digit.
long hex_field(std::string_view s, std::size_t pos, std::size_t count) {
  long v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    int d = hex_value(s[pos + i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  if (text.size() > 64) out += "...";
  return "\"" + out + "\"";
}

}  // namespace

Result<Bdf> Bdf::parse(std::string_view text) {
  auto invalid = [&](const char* why) {
    return fail(ErrorKind::kInvalidInput, "parse PCI address", printable(text),
                std::string(why) + "; expected DDDD:BB:DD.F in hex, e.g. 0000:00:04.0 (see lspci -D)");
  };
  if (text.size() != kBdfLength) return invalid("wrong length");
  if (text[4] != ':' || text[7] != ':' || text[10] != '.') return invalid("separators out of place");
  long domain = hex_field(text, 0, 4), bus = hex_field(text, 5, 2), dev = hex_field(text, 8, 2);
  long fn = hex_field(text, 11, 1);
  if (domain < 0 || bus < 0 || dev < 0 || fn < 0) return invalid("not a hex digit");
  if (dev > 0x1f) return invalid("device number above 0x1f");
  if (fn > 7) return invalid("function number above 7");
  Bdf b;
  b.domain_ = static_cast<std::uint16_t>(domain);
  b.bus_ = static_cast<std::uint8_t>(bus);
  b.device_ = static_cast<std::uint8_t>(dev);
  b.function_ = static_cast<std::uint8_t>(fn);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", b.domain_, b.bus_, b.device_, b.function_);
  b.text_ = buf;
  return b;
}

}  // namespace lu::vfio
