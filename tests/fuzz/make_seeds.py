#!/usr/bin/python3
"""Writes the seed inputs of the fuzz targets added with libFuzzer (ws_frame, ws_deflate, jwt,
jwks, admin) into tests/fuzz/corpus/<target>/, in each target's input format (its source file's
header says it). Seeds are small and each stands for one behaviour; the fuzzer finds the rest.
Rerun after changing a format; it only writes seed-* files, so found inputs (crash-*, …) stay.

    tests/fuzz/make_seeds.py
"""
import json
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
JWT_DATA = os.path.join(HERE, "..", "data", "jwt")


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- WebSocket frames (RFC 6455 §5.2), as a client writes them: masked ----
def frame(first, payload, key=b"\x37\xfa\x21\x3d"):
    n = len(payload)
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 65536:
        head = bytes([first, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([first, 0x80 | 127]) + struct.pack(">Q", n)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close(code, reason=b""):
    return frame(0x88, struct.pack(">H", code) + reason)


def ws_frame_seeds():
    # byte 0: bits 0-1 the limit (1, 125, 1000, 1 MiB), bits 2-4 the read size (0 1 2 3 7 64 1000 4096)
    big = 3
    write("ws_frame", "text_then_close", bytes([big]) + frame(0x81, b"hello") + close(1000, b"bye"))
    write("ws_frame", "fragments_and_ping",
          bytes([big | (1 << 2)]) + frame(0x01, b"hel") + frame(0x89, b"ping") + frame(0x80, b"lo")
          + frame(0x82, b"\x00\xff") + close(4000))
    write("ws_frame", "len16_binary", bytes([2 | (5 << 2)]) + frame(0x82, bytes(range(200))) + frame(0x8a, b"pong"))
    write("ws_frame", "len64_over_limit", bytes([2]) + frame(0x82, bytes(70000))[:24])  # the header says it
    write("ws_frame", "bad_utf8", bytes([big]) + frame(0x81, b"ok \xed\xa0\x80 surrogate"))
    write("ws_frame", "utf8_split_across_frames",
          bytes([big | (2 << 2)]) + frame(0x01, "é€".encode()[:3]) + frame(0x80, "é€".encode()[3:]))
    write("ws_frame", "limit_1", bytes([0]) + frame(0x81, b"a") + frame(0x81, b"ab"))
    write("ws_frame", "close_1005", bytes([big]) + close(1005))
    write("ws_frame", "unmasked", bytes([big]) + b"\x81\x02hi")
    write("ws_frame", "truncated", bytes([big]) + frame(0x81, b"hello world")[:9])


# ---- permessage-deflate (RFC 7692): raw deflate, sync flush, 00 00 FF FF stripped ----
def deflate(data, wbits=15, z=None):
    z = z or zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def records(payload, text=True, compressed=True, ping=False, chunk=255):
    """The target's frame records for one message: flags len payload."""
    out = b""
    parts = [payload[i:i + chunk] for i in range(0, len(payload), chunk)] or [b""]
    for i, p in enumerate(parts):
        flags = (1 if i == len(parts) - 1 else 0) | (2 if text else 0) | (0 if compressed else 4)
        if ping and i == 1:
            flags |= 8
        out += bytes([flags, len(p)]) + p
    return out


def ws_deflate_seeds():
    # byte 0: bits 0-1 the limit (16, 1000, 16384, 1 MiB), bits 2-4 window bits 9 + n%7,
    # bit 5 client_no_context_takeover, bits 6-7 the read size (0, 1, 5, 300)
    def cfg(limit, wbits=15, no_ctx=0, rs=0):
        return bytes([limit | (((wbits - 9) % 7) << 2) | (no_ctx << 5) | (rs << 6)])

    write("ws_deflate", "hello", cfg(1) + records(deflate(b"hello hello hello hello")))
    z = zlib.compressobj(6, zlib.DEFLATED, -15)
    write("ws_deflate", "context_takeover",
          cfg(1) + records(deflate(b"the same words again and again", z=z))
          + records(deflate(b"the same words again and again", z=z), text=False))
    write("ws_deflate", "no_context_takeover_window_9", cfg(2, 9, 1, 2)
          + records(deflate(b"abc" * 100, 9)) + records(deflate(b"abc" * 100, 9)))
    bomb = deflate(bytes(1 << 20))  # 1 MiB of zeros in about 1 KiB
    write("ws_deflate", "bomb_1MiB_over_16KiB", cfg(2) + records(bomb, text=False))
    write("ws_deflate", "bomb_at_default_limit", cfg(3) + records(deflate(bytes((1 << 20) + 1)), text=False))
    write("ws_deflate", "just_over_16", cfg(0) + records(deflate(b"x" * 17)))
    write("ws_deflate", "uncompressed_and_ping", cfg(1) + records(b"plain", compressed=False)
          + records(deflate(b"a" * 600), ping=True, chunk=3))
    final = zlib.compressobj(6, zlib.DEFLATED, -15)
    write("ws_deflate", "bfinal_block", cfg(1) + records(final.compress(b"last") + final.flush()))
    write("ws_deflate", "corrupt", cfg(1) + records(b"\xff\xff\xff\xff\x00"))
    write("ws_deflate", "bad_utf8_inflated", cfg(1) + records(deflate(b"\xc3\x28 not utf-8")))
    far = zlib.compressobj(6, zlib.DEFLATED, -15)
    write("ws_deflate", "distance_past_window_9", cfg(1, 9)
          + records(deflate(bytes(range(256)) * 4 + b"Q" * 700 + bytes(range(256)), z=far)))


# ---- JWT: byte 0 = verifier (0 hs, 1 rs, 2 es, 3 jwks) | 4 sign mode | signer << 3 ----
def jwt_seeds():
    tokens = json.load(open(os.path.join(JWT_DATA, "tokens.json")))["tokens"]
    raw = {"hs256": 0, "hs512": 0, "rs256": 1, "es256": 2, "jwks_es256": 3, "jwks_hs256": 3, "jwks_rs256": 3,
           "jwks_rs256_kid_rsa_rs384": 3, "hs256_rsa_pub_secret": 1, "hs256_tampered_signature": 0,
           "es256_der_signature": 2, "hs256_non_canonical_base64": 0, "none": 0, "rooms": 0, "claims": 0,
           "expired": 0, "aud_array": 3, "crit": 0}
    for name, v in raw.items():
        write("jwt", "raw_" + name, bytes([v]) + tokens[name].encode())
    sign = lambda v, s: bytes([v | 4 | (s << 3)])
    write("jwt", "sign_hs_made_here", sign(0, 0) + b'{"tenant":"acme","level":3}')
    write("jwt", "sign_es_made_here", sign(2, 1) + b'{"n":1.5}')
    write("jwt", "sign_rs_header_hs384", sign(1, 2) + b'{"alg":"RS384"}\n{"sub":"bob","rooms":["a","b"]}')
    write("jwt", "sign_confusion_rsa_pem", sign(1, 5) + b'{"alg":"HS256"}\n{"sub":"mallory"}')
    write("jwt", "sign_confusion_ec_pem", sign(2, 6) + b'{"alg":"HS256"}\n{"sub":"mallory"}')
    write("jwt", "sign_jwks_es384", sign(3, 3)
          + b'{"alg":"ES384","kid":"ec-384"}\n{"aud":["x","feed"],"iss":"https://issuer.example","exp":2000001004}')
    write("jwt", "sign_wrong_secret", sign(0, 7) + b'{"sub":"eve"}')


def jwks_seeds():
    os.makedirs(os.path.join(HERE, "corpus", "jwks"), exist_ok=True)
    for f in ("jwks.json", "jwks_single.json", "jwks_unsupported_kty.json", "jwks_bad_json.json"):
        shutil.copyfile(os.path.join(JWT_DATA, f), os.path.join(HERE, "corpus", "jwks", "seed-" + f))
    secret = open(os.path.join(JWT_DATA, "hs.secret"), "rb").read().rstrip(b"\n")
    import base64
    k = base64.urlsafe_b64encode(secret).rstrip(b"=").decode()
    write("jwks", "hmac_1", json.dumps({"keys": [{"kty": "oct", "kid": "hmac-1", "k": k}]}).encode())
    write("jwks", "hmac_1_enc_and_alg", json.dumps({"keys": [
        {"kty": "oct", "kid": "hmac-1", "k": k, "use": "enc"},
        {"kty": "oct", "kid": "other", "k": k, "alg": "HS512"}]}).encode())


# ---- admin: byte 0 = 1 no token | 2 not ready | 4 the send finds the connection closing ----
def admin_seeds():
    def req(method, target, body=b"", auth=True, ctype=None):
        h = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:9090\r\n"
        if auth:
            h += "Authorization: Bearer s3cret\r\n"
        if ctype:
            h += f"Content-Type: {ctype}\r\n"
        if body or method in ("POST", "PUT"):
            h += f"Content-Length: {len(body)}\r\n"
        return h.encode() + b"\r\n" + body

    write("admin", "healthz", b"\x00" + req("GET", "/healthz", auth=False))
    write("admin", "readyz_not_ready", b"\x02" + req("HEAD", "/readyz", auth=False))
    write("admin", "metrics_post", b"\x00" + req("POST", "/metrics", auth=False))
    write("admin", "send_wait_written", b"\x00" + req("POST", "/v1/connections/@ID@/messages?wait=written", b"hi", ctype="text/plain"))
    write("admin", "send_gone", b"\x04" + req("POST", "/v1/connections/@ID@/messages?wait=written", b"\x00\x01"))
    write("admin", "close_with_reason", b"\x00" + req("DELETE", "/v1/connections/@ID@?code=4000&reason=b%C3%BFe"))
    write("admin", "show", b"\x00" + req("GET", "/v1/connections/@ID@"))
    write("admin", "join_room", b"\x00" + req("PUT", "/v1/rooms/team%2F7/connections/@ID@"))
    write("admin", "publish_exclude", b"\x00" + req("POST", "/v1/rooms/lobby/messages?exclude=@ID@", b"x", ctype="text/html"))
    write("admin", "members", b"\x00" + req("GET", "/v1/rooms/lobby/connections"))
    write("admin", "user_join_and_close", b"\x00" + req("PUT", "/v1/users/alice/rooms/r1"))
    write("admin", "close_user_bad_code", b"\x00" + req("DELETE", "/v1/users/alice/connections?code=1005"))
    write("admin", "broadcast_too_large", b"\x00" + req("POST", "/v1/broadcast", b"y" * 1001))
    write("admin", "broadcast_bad_utf8", b"\x00" + req("POST", "/v1/broadcast", b"\xff", ctype="text/plain"))
    write("admin", "no_token_configured", b"\x01" + req("POST", "/v1/broadcast", b"z"))
    write("admin", "wrong_token", b"\x00" + req("GET", "/v1/users/alice", auth=False)
          .replace(b"\r\n\r\n", b"\r\nAuthorization: bearer s3cret2\r\n\r\n"))
    write("admin", "bad_percent", b"\x00" + req("GET", "/v1/rooms/a%ZZ"))


if __name__ == "__main__":
    ws_frame_seeds()
    ws_deflate_seeds()
    jwt_seeds()
    jwks_seeds()
    admin_seeds()
