#include "msinet/weights/proto_wire.h"

namespace msinet::weights::wire {

uint64_t read_varint(std::string_view& data) {
  uint64_t value = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i >= data.size()) throw WireError("varint cut short by the end of the data");
    const auto byte = static_cast<uint8_t>(data[i]);
    if (i == 9 && byte > 1) throw WireError("varint longer than 64 bits");
    value |= static_cast<uint64_t>(byte & 0x7Fu) << (7 * i);
    if ((byte & 0x80u) == 0) {
      data.remove_prefix(i + 1);
      return value;
    }
  }
  throw WireError("varint longer than 10 bytes");
}

bool Reader::next(uint32_t& field, WireType& type) {
  if (done()) return false;
  const uint64_t tag = varint();
  const uint64_t number = tag >> 3;
  const uint32_t wire_type = static_cast<uint32_t>(tag & 7u);
  if (number == 0 || number > 0x1FFFFFFFu) {
    throw WireError("invalid field number " + std::to_string(number) + " at byte " +
                    std::to_string(pos_));
  }
  if (wire_type > 5) {
    throw WireError("invalid wire type " + std::to_string(wire_type) + " at byte " +
                    std::to_string(pos_));
  }
  field = static_cast<uint32_t>(number);
  type = static_cast<WireType>(wire_type);
  return true;
}

uint64_t Reader::varint() {
  std::string_view rest = data_.substr(pos_);
  const size_t before = rest.size();
  const uint64_t value = read_varint(rest);
  pos_ += before - rest.size();
  return value;
}

uint32_t Reader::fixed32() {
  if (data_.size() - pos_ < 4) throw WireError("fixed32 cut short at byte " + std::to_string(pos_));
  const uint32_t v = load_fixed32(data_.data() + pos_);
  pos_ += 4;
  return v;
}

uint64_t Reader::fixed64() {
  if (data_.size() - pos_ < 8) throw WireError("fixed64 cut short at byte " + std::to_string(pos_));
  const uint64_t v = load_fixed64(data_.data() + pos_);
  pos_ += 8;
  return v;
}

std::string_view Reader::bytes() {
  const size_t at = pos_;
  const uint64_t length = varint();
  if (length > data_.size() - pos_) {
    throw WireError("field of " + std::to_string(length) + " bytes at byte " + std::to_string(at) +
                    " runs past the end of its message (" + std::to_string(data_.size() - pos_) +
                    " bytes left)");
  }
  std::string_view out = data_.substr(pos_, static_cast<size_t>(length));
  pos_ += static_cast<size_t>(length);
  return out;
}

void Reader::skip(WireType type) {
  switch (type) {
    case WireType::kVarint:
      varint();
      return;
    case WireType::kFixed64:
      fixed64();
      return;
    case WireType::kLengthDelimited:
      bytes();
      return;
    case WireType::kFixed32:
      fixed32();
      return;
    default:
      throw WireError("unsupported group field at byte " + std::to_string(pos_));
  }
}

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80u) {
    out.push_back(static_cast<char>((value & 0x7Fu) | 0x80u));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_tag(std::string& out, uint32_t field, WireType type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | static_cast<uint32_t>(type));
}

void put_varint_field(std::string& out, uint32_t field, uint64_t value) {
  put_tag(out, field, WireType::kVarint);
  put_varint(out, value);
}

void put_fixed32_field(std::string& out, uint32_t field, uint32_t value) {
  put_tag(out, field, WireType::kFixed32);
  put_fixed32(out, value);
}

void put_bytes_field(std::string& out, uint32_t field, std::string_view payload) {
  put_tag(out, field, WireType::kLengthDelimited);
  put_varint(out, payload.size());
  out.append(payload.data(), payload.size());
}

void put_fixed32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

void put_fixed64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFFu));
}

uint32_t load_fixed32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | (static_cast<uint32_t>(u[1]) << 8) |
         (static_cast<uint32_t>(u[2]) << 16) | (static_cast<uint32_t>(u[3]) << 24);
}

uint64_t load_fixed64(const char* p) {
  return static_cast<uint64_t>(load_fixed32(p)) |
         (static_cast<uint64_t>(load_fixed32(p + 4)) << 32);
}

}  // namespace msinet::weights::wire
