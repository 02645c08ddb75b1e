#pragma once
// Text that goes into JSON must be valid UTF-8: nlohmann::json::dump throws on
// anything else, which would lose a finished run's summary.json. File paths on
// Linux are arbitrary bytes, so every path or user string that is stored in a
// JSON document passes through valid_utf8 first.
#include <string>

namespace dpsgd::util {

/// `text` with every byte that is not part of a well-formed UTF-8 sequence
/// (stray continuation bytes, truncated or overlong sequences, surrogates,
/// code points above U+10FFFF) written as the four characters \xNN (its value
/// in hex), so the byte stays visible and two paths that differ only in such
/// bytes stay different (a U+FFFD replacement would merge them); valid text is
/// returned as is.
std::string valid_utf8(const std::string& text);

}  // namespace dpsgd::util
