// A small, strict JSON value, parser and serializer for the sync protocol (RFC 8259: no
// comments, no trailing commas, no duplicate keys; integers kept exact as int64).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nlc::json {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Kind { Null, Bool, Int, Double, String, Array, Object };
  using Array = std::vector<Value>;
  using Member = std::pair<std::string, Value>;
  using Object = std::vector<Member>;  // insertion order kept, keys unique

  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : kind_(Kind::Bool), bool_(b) {}
  Value(int i) : kind_(Kind::Int), int_(i) {}
  Value(long i) : kind_(Kind::Int), int_(i) {}
  Value(long long i) : kind_(Kind::Int), int_(i) {}
  Value(unsigned u) : kind_(Kind::Int), int_(u) {}
  Value(double d) : kind_(Kind::Double), double_(d) {}
  Value(const char* s) : kind_(Kind::String), string_(s) {}
  Value(std::string s) : kind_(Kind::String), string_(std::move(s)) {}
  Value(std::string_view s) : kind_(Kind::String), string_(s) {}
  Value(Array a) : kind_(Kind::Array), array_(std::move(a)) {}
  // Build an object: Value::object({{"type", "child"}, {"pid", 12}}).
  static Value object(std::initializer_list<Member> members = {});
  static Value array(std::initializer_list<Value> items = {}) { return Value(Array(items)); }

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isInt() const { return kind_ == Kind::Int; }
  bool isNumber() const { return kind_ == Kind::Int || kind_ == Kind::Double; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  bool asBool() const { return bool_; }
  int64_t asInt() const { return int_; }
  double asDouble() const { return kind_ == Kind::Int ? static_cast<double>(int_) : double_; }
  const std::string& asString() const { return string_; }
  const Array& asArray() const { return array_; }
  const Object& asObject() const { return object_; }

  // Object member by key, or nullptr when absent (or this is not an object).
  const Value* find(std::string_view key) const;
  // Set or replace an object member (this must be an object).
  void set(std::string key, Value value);
  // Append a member whose key is known not to be there yet (the parser checked): set() without
  // its scan for the key.
  void addNew(std::string key, Value value) { object_.emplace_back(std::move(key), std::move(value)); }
  void push(Value value) { array_.push_back(std::move(value)); }

  // The JSON name of a kind, for error messages ("a string", "an object").
  static const char* kindName(Kind kind);

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  Object object_;
};

// Parse exactly one JSON value (surrounding whitespace allowed). Throws ParseError.
Value parse(std::string_view text);
// Compact serialization. Strings are written as UTF-8 with control characters escaped.
std::string serialize(const Value& value);

}  // namespace nlc::json
