// A cereal binary input archive that reads from a byte span and refuses any length larger than
// the bytes left. cereal's own BinaryInputArchive resizes a container to whatever size a hostile
// file claims before it notices the data is missing; this one fails first.
#pragma once

#include <cereal/cereal.hpp>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace lu {

class BoundedInputArchive : public cereal::InputArchive<BoundedInputArchive, cereal::AllowEmptyClassElision> {
 public:
  explicit BoundedInputArchive(std::span<const std::uint8_t> bytes)
      : InputArchive<BoundedInputArchive, cereal::AllowEmptyClassElision>(this), bytes_(bytes) {}

  void loadBinary(void* out, std::size_t size) {
    if (size == 0) return;  // an empty container's data() may be null: memcpy must not see it
    if (size > remaining()) throw cereal::Exception("the data ends before the record does");
    std::memcpy(out, bytes_.data() + offset_, size);
    offset_ += size;
  }
  std::size_t remaining() const { return bytes_.size() - offset_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T>> CEREAL_LOAD_FUNCTION_NAME(BoundedInputArchive& ar, T& t) {
  ar.loadBinary(std::addressof(t), sizeof(t));
}
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedInputArchive& ar, cereal::NameValuePair<T>& t) {
  ar(t.value);
}
// Every element of every lu-test record takes at least one byte, so a count above the bytes
// left is a lie.
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedInputArchive& ar, cereal::SizeTag<T>& t) {
  ar(t.size);
  if (static_cast<std::uint64_t>(t.size) > ar.remaining())
    throw cereal::Exception("a length field claims more elements than bytes are left");
}
template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedInputArchive& ar, cereal::BinaryData<T>& t) {
  ar.loadBinary(t.data, static_cast<std::size_t>(t.size));
}

}  // namespace lu

CEREAL_REGISTER_ARCHIVE(lu::BoundedInputArchive)
