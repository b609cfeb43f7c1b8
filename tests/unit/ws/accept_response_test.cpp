// Tests for ws/accept_response: the RFC's own example, and the fields the 101 carries.
#include "ws/accept_response.h"

#include <gtest/gtest.h>

using namespace wsgated::ws;

TEST(accept_response, the_accept_value_of_rfc_6455_section_1_3) {
    EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(accept_response, subprotocol_and_extensions_only_when_chosen) {
    auto plain = accept_response("dGhlIHNhbXBsZSBub25jZQ==", "", "");
    EXPECT_EQ(plain.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
    EXPECT_NE(plain.find("\r\nUpgrade: websocket\r\n"), std::string::npos);
    EXPECT_NE(plain.find("\r\nConnection: Upgrade\r\n"), std::string::npos);
    EXPECT_NE(plain.find("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), std::string::npos);
    EXPECT_EQ(plain.find("Sec-WebSocket-Protocol"), std::string::npos);
    EXPECT_EQ(plain.find("Sec-WebSocket-Extensions"), std::string::npos);
    EXPECT_EQ(plain.substr(plain.size() - 4), "\r\n\r\n");
    auto full = accept_response("dGhlIHNhbXBsZSBub25jZQ==", "chat.v1", "permessage-deflate");
    EXPECT_NE(full.find("\r\nSec-WebSocket-Protocol: chat.v1\r\n"), std::string::npos);
    EXPECT_NE(full.find("\r\nSec-WebSocket-Extensions: permessage-deflate\r\n"), std::string::npos);
}
