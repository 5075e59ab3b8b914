// Checks of the init helper's JSON parser and serializer (addon/init/json.cc): what it accepts,
// what it refuses and with which message, and round trips. test/unit/init-native.test.ts builds
// this with g++ against json.cc and runs it. Prints every failed check and exits 1, or exits 0.
#include <cstdio>
#include <string>

#include "json.h"

using nlc::json::ParseError;
using nlc::json::Value;

static int failures = 0;

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "json-check:%d: failed: %s\n", __LINE__, #cond); \
      failures++;                                                      \
    }                                                                  \
  } while (0)

// The parse error's message for text, or "" when it parses.
static std::string errorOf(const std::string& text) {
  try {
    nlc::json::parse(text);
    return "";
  } catch (const ParseError& e) {
    return e.what();
  }
}

static bool refuses(const std::string& text, const std::string& fragment) {
  std::string message = errorOf(text);
  if (message.find(fragment) != std::string::npos) return true;
  std::fprintf(stderr, "json-check: %s: expected an error containing \"%s\", got \"%s\"\n", text.c_str(), fragment.c_str(), message.c_str());
  return false;
}

int main() {
  // Strings: plain runs, every escape, \u with surrogate pairs, UTF-8 passed through.
  Value s = nlc::json::parse(R"("plain \"q\" \\ \/ \b\f\n\r\t \u0041\u00e9\u20ac\ud83d\ude00 é")");
  CHECK(s.isString());
  CHECK(s.asString() == "plain \"q\" \\ / \b\f\n\r\t A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9");
  CHECK(nlc::json::parse(R"("")").asString().empty());
  CHECK(nlc::json::parse(R"("\\")").asString() == "\\");
  CHECK(nlc::json::parse(R"("a\"")").asString() == "a\"");
  std::string longText(10000, 'x');
  CHECK(nlc::json::parse("\"" + longText + "\"").asString() == longText);

  // Objects keep insertion order; find() by key; nested values.
  Value o = nlc::json::parse(R"( { "b" : 1 , "a" : [true, false, null, -2, 3.5, 1e3], "c": {"d": "e"} } )");
  CHECK(o.isObject() && o.asObject().size() == 3);
  CHECK(o.asObject()[0].first == "b" && o.asObject()[1].first == "a" && o.asObject()[2].first == "c");
  CHECK(o.find("b") && o.find("b")->isInt() && o.find("b")->asInt() == 1);
  CHECK(!o.find("z"));
  const Value* a = o.find("a");
  CHECK(a && a->isArray() && a->asArray().size() == 6);
  if (a && a->asArray().size() == 6) {
    CHECK(a->asArray()[0].isBool() && a->asArray()[0].asBool());
    CHECK(a->asArray()[2].isNull());
    CHECK(a->asArray()[3].asInt() == -2);
    CHECK(a->asArray()[4].isNumber() && a->asArray()[4].asDouble() == 3.5);
    CHECK(a->asArray()[5].asDouble() == 1000);
  }
  CHECK(o.find("c") && o.find("c")->find("d") && o.find("c")->find("d")->asString() == "e");
  CHECK(nlc::json::parse("{}").asObject().empty() && nlc::json::parse("[]").asArray().empty());
  // Beyond int64: a double, as JavaScript would have it.
  CHECK(nlc::json::parse("9223372036854775808").isNumber() && !nlc::json::parse("9223372036854775808").isInt());
  CHECK(nlc::json::parse("-9223372036854775808").isInt());

  // Refused, with a message that says why.
  CHECK(refuses(R"({"a": 1, "a": 2})", "duplicate key \"a\""));
  CHECK(refuses(R"("abc)", "unterminated string"));
  CHECK(refuses("\"a\nb\"", "control character in string"));
  CHECK(refuses(R"("a\)", "unterminated escape"));
  CHECK(refuses(R"("\x")", "invalid escape"));
  CHECK(refuses(R"("\u12")", "\\u escape"));
  CHECK(refuses(R"("\udc00")", "lone low surrogate"));
  CHECK(refuses(R"("\ud83d")", "high surrogate without a low surrogate"));
  CHECK(refuses(R"("\ud83d\u0041")", "high surrogate without a low surrogate"));
  CHECK(refuses("[1,]", "unexpected character"));
  CHECK(refuses("[1 2]", "expected ',' or ']'"));
  CHECK(refuses(R"({"a" 1})", "expected ':'"));
  CHECK(refuses("{1: 2}", "expected a string key"));
  CHECK(refuses("tru", "invalid literal"));
  CHECK(refuses("01", "unexpected data after the value"));
  CHECK(refuses("1.", "digit expected after '.'"));
  CHECK(refuses("1e", "digit expected in exponent"));
  CHECK(refuses("1e999", "number out of range"));
  CHECK(refuses("{} x", "unexpected data after the value"));
  CHECK(refuses("", "unexpected end of input"));
  CHECK(refuses(std::string(5000, '[') + std::string(5000, ']'), "nesting too deep"));
  // The offset of the failure is in the message.
  CHECK(refuses("[1,]", "offset 3"));

  // Serialize and parse again: the same value; control characters escaped.
  Value built = Value::object({{"type", "procError"}, {"errno", 2}, {"path", "/a\"b\\c\n\x01"}, {"list", Value::array({1, "x", nullptr})}});
  std::string text = nlc::json::serialize(built);
  CHECK(text == "{\"type\":\"procError\",\"errno\":2,\"path\":\"/a\\\"b\\\\c\\n\\u0001\",\"list\":[1,\"x\",null]}");
  Value again = nlc::json::parse(text);
  CHECK(again.find("path") && again.find("path")->asString() == "/a\"b\\c\n\x01");
  CHECK(nlc::json::serialize(again) == text);
  // set() replaces a member in place.
  built.set("errno", 5);
  CHECK(built.asObject().size() == 4 && built.find("errno")->asInt() == 5 && built.asObject()[1].first == "errno");

  if (failures) std::fprintf(stderr, "json-check: %d failed\n", failures);
  return failures ? 1 : 0;
}
