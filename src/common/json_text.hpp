// Works on the *text* of JSON that has already been validated (boost::json::parse succeeded),
// so a published payload can be forwarded byte for byte: re-serializing through Boost.JSON 1.81
// would change numbers (5E1 for 50.0, imprecise doubles), which subscribers would notice.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fg::json_text {

// Index one past the value starting at `pos` (leading whitespace skipped), or npos when the text is
// not valid JSON at that point.
std::size_t SkipValue(std::string_view text, std::size_t pos);

// Raw text of the member `key` of the top-level object `object_text` (its last occurrence, as
// JSON.parse and Boost.JSON keep); nullopt when absent or when `object_text` is not an object.
std::optional<std::string_view> FindMember(std::string_view object_text, std::string_view key);

// Raw text of each element of the top-level array `array_text`; nullopt when it is not an array.
std::optional<std::vector<std::string_view>> ArrayElements(std::string_view array_text);

// `object_text` with `"key":raw_value` appended as its last member.
std::string AppendMember(std::string_view object_text, std::string_view key, std::string_view raw_value);

// The characters of `s` (no quotes) appended to `out` escaped exactly as JavaScript's
// JSON.stringify escapes them: the byte-exact form signatures over JSON depend on (Boost.JSON's
// serializer escapes differently, so it serves everywhere else).
void AppendEscaped(std::string& out, std::string_view s);

}  // namespace fg::json_text
