#include "core/json.hpp"

#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace json = edgeward::json;
using namespace std::string_literals;

namespace {
// Parses `text` with simdjson: the independent judge of "valid JSON".
bool parses(const std::string& text) {
  static simdjson::dom::parser parser;
  auto doc = parser.parse(text);
  return doc.error() == simdjson::SUCCESS;
}

// The string value that a JSON parser reads back from quote(s).
std::string round_trip(std::string_view s) {
  simdjson::dom::parser parser;
  const std::string doc = "[" + json::quote(s) + "]";
  simdjson::dom::element el;
  REQUIRE(parser.parse(doc).get(el) == simdjson::SUCCESS);
  std::string_view back;
  REQUIRE(el.at(0).get(back) == simdjson::SUCCESS);
  return std::string(back);
}
}  // namespace

TEST_CASE("quote escapes quotes, backslashes and control characters", "[json]") {
  CHECK(json::quote("") == R"("")");
  CHECK(json::quote("plain") == R"("plain")");
  CHECK(json::quote("say \"hi\"") == R"("say \"hi\"")");
  CHECK(json::quote("C:\\path") == R"("C:\\path")");
  CHECK(json::quote("a\nb\tc\rd\be\ff") == R"("a\nb\tc\rd\be\ff")");
  CHECK(json::quote("\x01\x1f") == R"("\u0001\u001f")");
  CHECK(json::quote("nul\0byte"s) == R"("nul\u0000byte")");
  CHECK(json::quote("</script>") == R"("</script>")");
  CHECK(json::quote("\x7f") == "\"\x7f\"");
}

TEST_CASE("quote keeps valid UTF-8 as it is", "[json]") {
  const std::string text = "Grüße, 世界, 🙂, \xF4\x8F\xBF\xBF";  // up to U+10FFFF
  CHECK(json::quote(text) == "\"" + text + "\"");
  CHECK(round_trip(text) == text);
  CHECK(json::is_valid_utf8(text));
}

TEST_CASE("quote replaces each ill-formed UTF-8 subpart with one U+FFFD", "[json]") {
  const std::string r = "\xEF\xBF\xBD";
  CHECK(json::quote("\xff") == "\"" + r + "\"");                          // never a lead byte
  CHECK(json::quote("a\x80z") == "\"a" + r + "z\"");                      // lone continuation
  CHECK(json::quote("\xC0\xAF") == "\"" + r + r + "\"");                  // overlong '/'
  CHECK(json::quote("\xE0\x80\xAF") == "\"" + r + r + r + "\"");          // overlong, 3 bytes
  CHECK(json::quote("\xED\xA0\x80") == "\"" + r + r + r + "\"");          // UTF-16 surrogate
  CHECK(json::quote("\xF4\x90\x80\x80") == "\"" + r + r + r + r + "\"");  // above U+10FFFF
  CHECK(json::quote("\xE2\x82") == "\"" + r + "\"");                      // truncated at the end
  CHECK(json::quote("\xE2\x82x") == "\"" + r + "x\"");                    // truncated mid-string
  CHECK(json::quote("\xF0\x9F\x99") == "\"" + r + "\"");                  // truncated emoji
  CHECK(json::quote("\xC3\"") == "\"" + r + "\\\"\"");                    // quote after a bad lead
}

TEST_CASE("quote output always parses, whatever the bytes", "[json]") {
  // Every single byte, every pair of bytes: all must give valid JSON.
  for (int a = 0; a < 256; ++a) {
    const std::string one(1, static_cast<char>(a));
    REQUIRE(parses(json::quote(one)));
    for (int b = 0; b < 256; ++b) {
      std::string two = one;
      two.push_back(static_cast<char>(b));
      const std::string q = json::quote(two);
      REQUIRE(json::is_valid_utf8(q));
      REQUIRE(parses(q));
    }
  }
}

TEST_CASE("is_valid_utf8 refuses what quote would replace", "[json]") {
  CHECK(json::is_valid_utf8(""));
  CHECK(json::is_valid_utf8("ascii"));
  CHECK_FALSE(json::is_valid_utf8("\x80"));
  CHECK_FALSE(json::is_valid_utf8("\xC0\xAF"));
  CHECK_FALSE(json::is_valid_utf8("\xED\xA0\x80"));
  CHECK_FALSE(json::is_valid_utf8("\xF4\x90\x80\x80"));
  CHECK_FALSE(json::is_valid_utf8("ok\xE2\x82"));
}

TEST_CASE("append_json_string appends to what is already there", "[json]") {
  std::string out = "prefix:";
  json::append_json_string(out, "v");
  CHECK(out == R"(prefix:"v")");
}

TEST_CASE("JsonWriter puts commas and colons itself", "[json]") {
  json::JsonWriter w;
  w.begin_object()
      .key("status")
      .number(403)
      .key("reasons")
      .begin_array()
      .string("DLP.PII.IBAN")
      .string("INJECTION.ROLE_HIJACK")
      .end_array()
      .key("retry")
      .boolean(false)
      .key("param")
      .null()
      .key("nested")
      .begin_object()
      .key("empty")
      .begin_array()
      .end_array()
      .key("o")
      .begin_object()
      .end_object()
      .end_object()
      .key("raw")
      .raw(R"({"a":1})")
      .end_object();
  CHECK(w.complete());
  CHECK(w.str() ==
        R"({"status":403,"reasons":["DLP.PII.IBAN","INJECTION.ROLE_HIJACK"],"retry":false,)"
        R"("param":null,"nested":{"empty":[],"o":{}},"raw":{"a":1}})");
  CHECK(parses(w.str()));
}

TEST_CASE("JsonWriter writes integers of every width and doubles in shortest form", "[json]") {
  json::JsonWriter w;
  w.begin_array()
      .number(0)
      .number(-1)
      .number(std::numeric_limits<std::int64_t>::min())
      .number(std::numeric_limits<std::uint64_t>::max())
      .number(static_cast<unsigned char>(200))
      .number(short{-7})
      .number(0.1)
      .number(1.5e300)
      .number(2.0)
      .number(std::numeric_limits<double>::quiet_NaN())
      .number(std::numeric_limits<double>::infinity())
      .end_array();
  CHECK(w.str() ==
        "[0,-1,-9223372036854775808,18446744073709551615,200,-7,0.1,1.5e+300,2,null,null]");
  CHECK(parses(w.str()));
}

TEST_CASE("JsonWriter escapes keys and values", "[json]") {
  json::JsonWriter w;
  w.begin_object().key("we\"ird\n").string("\x01\xff").end_object();
  CHECK(w.str() == "{\"we\\\"ird\\n\":\"\\u0001\xEF\xBF\xBD\"}");
  CHECK(parses(w.str()));
}

TEST_CASE("JsonWriter field shorthands pick the right JSON type", "[json]") {
  json::JsonWriter w;
  w.begin_object()
      .field("s", "text")
      .field("sv", std::string_view("view"))
      .field("n", 5)
      .field("u", 7u)
      .field("d", 0.25)
      .field("b", true)
      .end_object();
  CHECK(w.str() == R"({"s":"text","sv":"view","n":5,"u":7,"d":0.25,"b":true})");
}

TEST_CASE("JsonWriter appends to a caller's string and writes NDJSON lines", "[json]") {
  std::string out;
  json::JsonWriter w(out);
  w.begin_object().field("line", 1).end_object().newline();
  w.begin_object().field("line", 2).end_object().newline();
  CHECK(out == "{\"line\":1}\n{\"line\":2}\n");
  CHECK(&w.str() == &out);
}

TEST_CASE("JsonWriter reports incomplete documents and take() resets it", "[json]") {
  json::JsonWriter w;
  w.begin_object().key("a");
  CHECK_FALSE(w.complete());
  CHECK(w.depth() == 1);
  w.string("b");
  CHECK_FALSE(w.complete());
  w.end_object();
  CHECK(w.complete());
  CHECK(w.take() == R"({"a":"b"})");
  CHECK(w.str().empty());
  w.string("again");
  CHECK(w.str() == R"("again")");
}
