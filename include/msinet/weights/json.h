#pragma once
// A small strict JSON reader (RFC 8259) for TF.js manifests, and string quoting for writers.
// Written here rather than adding a JSON library: manifests need plain parsing only, and a
// parser of our own gives bounded nesting and error positions in the messages.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace msinet::weights::json {

/// One JSON value; objects keep their members in file order.
class Value {
 public:
  /// The JSON types.
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  /// The boolean (false unless is_bool()).
  bool boolean() const { return bool_; }
  /// The number (0 unless is_number()).
  double number() const { return number_; }
  /// The string (empty unless is_string()).
  const std::string& string() const { return string_; }
  /// The elements (empty unless is_array()).
  const std::vector<Value>& array() const { return array_; }
  /// The members (empty unless is_object()).
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }
  /// The member named `key`, or nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const;

 private:
  friend class Parser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> array_;
  std::vector<std::pair<std::string, Value>> members_;
};

/// Parses a whole JSON text; throws std::invalid_argument naming line and column.
Value parse(std::string_view text);

/// `s` as a JSON string literal, quotes included.
std::string quote(std::string_view s);

/// A number as JSON text that reads back to the same double.
std::string number(double v);

}  // namespace msinet::weights::json
