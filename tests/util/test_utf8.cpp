// valid_utf8: valid text is unchanged; every byte outside a well-formed
// sequence becomes the visible text \xNN, so the result is valid UTF-8 and two
// different byte strings stay different.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dpsgd/util/utf8.hpp"

using dpsgd::util::valid_utf8;

TEST_CASE("valid_utf8 keeps valid text and escapes every invalid byte", "[util][utf8]") {
  CHECK(valid_utf8("plain /data/x") == "plain /data/x");
  const std::string valid = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";  // 2-, 3-, 4-byte forms
  CHECK(valid_utf8(valid) == valid);
  CHECK(valid_utf8("caf\xE9") == "caf\\xE9");                       // Latin-1
  CHECK(valid_utf8("\x80x") == "\\x80x");                           // stray continuation
  CHECK(valid_utf8("a\xC3") == "a\\xC3");                           // truncated at the end
  CHECK(valid_utf8("\xC0\xAF") == "\\xC0\\xAF");                    // overlong '/'
  CHECK(valid_utf8("\xED\xA0\x80") == "\\xED\\xA0\\x80");           // a surrogate
  CHECK(valid_utf8("\xF4\x90\x80\x80") == "\\xF4\\x90\\x80\\x80");  // above U+10FFFF
  CHECK(valid_utf8("\xFF\xFE") != valid_utf8("\xFE\xFF"));
  for (const std::string s : {"\xFF", "a\xC3", "\xED\xA0\x80", "ok"}) {
    CHECK_NOTHROW(nlohmann::json(valid_utf8(s)).dump());
  }
}
