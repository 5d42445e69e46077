#pragma once
// A bounds-checked reader and a small writer for the protocol-buffer wire format, enough for
// the TensorFlow messages the weight readers need (no libprotobuf).
// ref: protobuf.dev/programming-guides/encoding (varint, tags, wire types)

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace msinet::weights::wire {

/// Malformed wire data; readers rethrow it as msinet::Error naming the file and the tensor.
class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The wire types of the encoding.
enum class WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5
};

/// Reads fields from one serialized message; every read checks the remaining bytes.
class Reader {
 public:
  /// Reads `data`, which must outlive the reader.
  explicit Reader(std::string_view data) : data_(data) {}

  /// Reads the next tag into `field` and `type`; false at the end of the message.
  bool next(uint32_t& field, WireType& type);
  /// A varint (up to 10 bytes).
  uint64_t varint();
  /// A little-endian 32-bit value.
  uint32_t fixed32();
  /// A little-endian 64-bit value.
  uint64_t fixed64();
  /// The payload of a length-delimited field (a view into the input).
  std::string_view bytes();
  /// Skips a field of the given wire type (groups are refused).
  void skip(WireType type);
  /// The bytes not read yet.
  std::string_view remaining() const { return data_.substr(pos_); }
  /// Bytes consumed so far.
  size_t position() const { return pos_; }
  /// True when every byte has been read.
  bool done() const { return pos_ >= data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

/// Decodes a varint at the start of `data` (advanced past it); throws WireError when cut short.
uint64_t read_varint(std::string_view& data);

/// Appends a varint.
void put_varint(std::string& out, uint64_t value);
/// Appends a tag.
void put_tag(std::string& out, uint32_t field, WireType type);
/// Appends a varint field.
void put_varint_field(std::string& out, uint32_t field, uint64_t value);
/// Appends a fixed32 field.
void put_fixed32_field(std::string& out, uint32_t field, uint32_t value);
/// Appends a length-delimited field.
void put_bytes_field(std::string& out, uint32_t field, std::string_view payload);
/// Appends a little-endian 32-bit value (no tag).
void put_fixed32(std::string& out, uint32_t value);
/// Appends a little-endian 64-bit value (no tag).
void put_fixed64(std::string& out, uint64_t value);
/// Reads a little-endian 32-bit value from 4 bytes.
uint32_t load_fixed32(const char* p);
/// Reads a little-endian 64-bit value from 8 bytes.
uint64_t load_fixed64(const char* p);

}  // namespace msinet::weights::wire
