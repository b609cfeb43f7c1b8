// http_text: small rules of HTTP header values that several parsers need (X-Forwarded-For
// hops, Cookie pairs, WSGate-Join lists, Content-Type), in one place.
#pragma once

#include <boost/beast/core/string.hpp>

#include <string_view>

namespace wsgated::text {

// Without the optional whitespace (spaces and tabs, RFC 9110 OWS) around a value or list item.
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A Content-Type of text/* (case-insensitive): such a body becomes a WebSocket text message.
inline bool is_text_type(std::string_view content_type) {
    return content_type.size() >= 5 && boost::beast::iequals(content_type.substr(0, 5), "text/");
}

// The path part of a request target ("/a/b?x=1" → "/a/b").
inline std::string_view target_path(std::string_view target) {
    return target.substr(0, target.find_first_of("?#"));
}

}  // namespace wsgated::text
