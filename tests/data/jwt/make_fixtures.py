#!/usr/bin/python3
"""Makes the JWT fixtures of tests/unit/auth/jwt_verifier_test.cpp and jwt_config_test.cpp.

Keys come from the `openssl` CLI and tokens from PyJWT (Debian's python3-jwt), never from
wsgated's own code, so the tests check our verifier against independent implementations.
Where PyJWT refuses to make a bad token (alg confusion, alg "none", tampering), the token is
assembled here with base64/hmac from Python's standard library.

Run it with Debian's Python (the one that sees python3-jwt):

    /usr/bin/python3 tests/data/jwt/make_fixtures.py

Keys are made only when missing, so re-running keeps them and only rewrites the token files;
delete *.key to start over. Every timestamp is fixed around T0 = 2000000000 (2033-05-18), and
the tests pass NOW = T0 + 1000 as the verifier's clock. The private keys here are test keys
and sign nothing else.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 2_000_000_000
NOW = T0 + 1000
SECRET = b"wsgated-test-hmac-secret-0123456789abcdef-0123456789abcdef-0123"
AUDIENCE = "feed"
ISSUER = "https://issuer.example"


def path(name):
    return os.path.join(HERE, name)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def read(name):
    with open(path(name), "rb") as f:
        return f.read()


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


# ---- keys (openssl CLI) ----

def gen_key(name, *pkeyopts, algorithm="EC"):
    if os.path.exists(path(name + ".key")):
        return
    opts = []
    for o in pkeyopts:
        opts += ["-pkeyopt", o]
    openssl("genpkey", "-algorithm", algorithm, *opts, "-out", path(name + ".key"))


def gen_public(name):
    openssl("pkey", "-in", path(name + ".key"), "-pubout", "-out", path(name + ".pub.pem"))


def ec521_x_is_short(name):
    key = serialization.load_pem_private_key(read(name + ".key"), None)
    return key.public_key().public_numbers().x < 2 ** 512


def make_keys():
    gen_key("rsa", "rsa_keygen_bits:2048", algorithm="RSA")
    gen_key("ec256", "ec_paramgen_curve:P-256")
    gen_key("ec384", "ec_paramgen_curve:P-384")
    # A P-521 key whose x coordinate has a zero first byte: PyJWT 2.6 writes such a JWK
    # coordinate unpadded (65 bytes, not 66), which the verifier accepts (docs/auth.md).
    while True:
        gen_key("ec521", "ec_paramgen_curve:P-521")
        if ec521_x_is_short("ec521"):
            break
        os.remove(path("ec521.key"))
    gen_key("rsa1024", "rsa_keygen_bits:1024", algorithm="RSA")
    gen_key("ed25519", algorithm="ED25519")
    gen_key("secp256k1", "ec_paramgen_curve:secp256k1")
    for name in ("rsa", "ec256", "ec384", "ec521", "rsa1024", "ed25519", "secp256k1"):
        gen_public(name)
    if not os.path.exists(path("rsa.crt")):
        openssl("req", "-new", "-x509", "-key", path("rsa.key"), "-subj", "/CN=wsgated-test",
                "-days", "36500", "-out", path("rsa.crt"))
    # The secret file ends in a newline, as `echo ... > file` writes it; the verifier strips one.
    write("hs.secret", SECRET + b"\n")
    write("hs_crlf.secret", SECRET + b"\r\n")
    write("empty.secret", b"\n")


# ---- JWKS documents (PyJWT's to_jwk) ----

def jwk(algorithm, key, **extra):
    obj = json.loads(algorithm.to_jwk(key))
    obj.update(extra)
    return obj


def public(name):
    return serialization.load_pem_public_key(read(name + ".pub.pem"))


def make_jwks():
    rsa_alg = jwt.algorithms.RSAAlgorithm
    ec_alg = jwt.algorithms.ECAlgorithm
    keys = [
        jwk(rsa_alg, public("rsa"), kid="rsa-1", use="sig"),
        jwk(rsa_alg, public("rsa"), kid="rsa-rs384", alg="RS384"),
        jwk(rsa_alg, public("rsa"), kid="rsa-enc", use="enc"),
        jwk(ec_alg, public("ec256"), kid="ec-256", alg="ES256", use="sig"),
        jwk(ec_alg, public("ec384"), kid="ec-384"),
        jwk(ec_alg, public("ec521"), kid="ec-521"),
        jwk(jwt.algorithms.HMACAlgorithm, SECRET, kid="hmac-1", alg="HS256"),
    ]
    assert len(keys[5]["x"]) < 88, "the P-521 JWK should have a short (unpadded) x"
    write("jwks.json", json.dumps({"keys": keys}, indent=2) + "\n")
    single = jwk(ec_alg, public("ec256"))  # no kid: tokens without one use it
    write("jwks_single.json", json.dumps({"keys": [single]}, indent=2) + "\n")
    okp = {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": b64(public("ed25519").public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw))}
    write("jwks_unsupported_kty.json", json.dumps({"keys": [okp]}, indent=2) + "\n")
    write("jwks_bad_json.json", '{"keys": [{"kty": "EC", "crv": "P-256",\n')


# ---- tokens (PyJWT, or assembled here where PyJWT refuses) ----

DROP = object()  # claims(aud=DROP): a token without `aud`


def claims(**changes):
    c = {"sub": "alice", "iat": T0, "nbf": T0, "exp": T0 + 3600, "aud": AUDIENCE, "iss": ISSUER}
    for k, v in changes.items():
        if v is DROP:
            c.pop(k, None)
        else:
            c[k] = v
    return c


KEY_OF = {"HS": None, "RS": "rsa", "ES256": "ec256", "ES384": "ec384", "ES512": "ec521"}


def signing_key(alg):
    if alg.startswith("HS"):
        return SECRET
    return read((KEY_OF.get(alg) or KEY_OF[alg[:2]]) + ".key")


def sign(alg, payload, key=None, **headers):
    return jwt.encode(payload, key or signing_key(alg), algorithm=alg, headers=headers or None)


def hmac_token(header, payload_text, secret=SECRET, digest=hashlib.sha256):
    """header.payload.HMAC over them, with any header and any payload bytes."""
    signing_input = b64(compact(header)) + "." + b64(payload_text)
    mac = hmac.new(secret, signing_input.encode(), digest).digest()
    return signing_input + "." + b64(mac)


def parts(token):
    return token.split(".")


def with_signature(token, signature):
    h, p, _ = parts(token)
    return h + "." + p + "." + b64(signature)


def es256_padded(token):
    """00||r||00||s: the same r and s, but not the 64 bytes JOSE requires."""
    sig = unb64(parts(token)[2])
    return with_signature(token, b"\0" + sig[:32] + b"\0" + sig[32:])


def es256_der(payload):
    header = {"alg": "ES256", "typ": "JWT"}
    signing_input = b64(compact(header)) + "." + b64(compact(payload))
    key = serialization.load_pem_private_key(read("ec256.key"), None)
    return signing_input + "." + b64(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))


def non_canonical(token):
    """Changes only the unused low bits of the signature's last base64url character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(token[-1]) ^ 1]
    assert unb64(parts(token)[2]) == unb64(parts(token)[2][:-1] + last)
    return token[:-1] + last


def tampered_payload(token):
    h, _, s = parts(token)
    return h + "." + b64(compact(claims(sub="mallory"))) + "." + s


def tampered_signature(token):
    sig = bytearray(unb64(parts(token)[2]))
    sig[len(sig) // 2] ^= 0x01
    return with_signature(token, bytes(sig))


def valid_tokens(t):
    for alg in ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"):
        t[alg.lower()] = sign(alg, claims())


def bad_signature_tokens(t):
    none_header = {"alg": "none", "typ": "JWT"}
    t["none"] = b64(compact(none_header)) + "." + b64(compact(claims())) + "."
    # alg confusion: HS256 keyed with the RSA public key file's bytes (PyJWT refuses to).
    t["hs256_rsa_pub_secret"] = hmac_token({"alg": "HS256", "typ": "JWT"}, compact(claims()),
                                           secret=read("rsa.pub.pem"))
    t["rs256_tampered_payload"] = tampered_payload(t["rs256"])
    t["hs256_tampered_payload"] = tampered_payload(t["hs256"])
    t["rs256_tampered_signature"] = tampered_signature(t["rs256"])
    t["es256_tampered_signature"] = tampered_signature(t["es256"])
    t["hs256_tampered_signature"] = tampered_signature(t["hs256"])
    t["hs256_short_mac"] = with_signature(t["hs256"], unb64(parts(t["hs256"])[2])[:16])
    t["hs256_long_mac"] = with_signature(t["hs256"], unb64(parts(t["hs256"])[2]) + b"\0")
    t["es256_padded_signature"] = es256_padded(t["es256"])
    t["es256_trailing_bytes"] = with_signature(t["es256"], unb64(parts(t["es256"])[2]) + b"\0")
    t["es256_der_signature"] = es256_der(claims())
    t["hs256_non_canonical_base64"] = non_canonical(t["hs256"])
    t["hs256_padded_base64"] = t["hs256"] + "="
    # 342 base64url characters of RS256 signature, cut by 10: still decodable, 249 bytes.
    t["rs256_truncated_signature"] = t["rs256"][:-10]
    t["rs256_two_parts"] = t["rs256"][: t["rs256"].rindex(".")]
    t["hs256_four_parts"] = t["hs256"] + ".e30"
    t["large"] = sign("HS256", claims(pad="x" * 65536))


def header_tokens(t):
    t["crit"] = sign("HS256", claims(), crit=["exp"])
    t["header_not_object"] = b64("[]") + "." + parts(t["hs256"])[1] + "." + parts(t["hs256"])[2]
    t["header_not_json"] = b64("{alg") + "." + parts(t["hs256"])[1] + "." + parts(t["hs256"])[2]
    t["alg_missing"] = hmac_token({"typ": "JWT"}, compact(claims()))
    t["alg_not_a_string"] = hmac_token({"alg": 256}, compact(claims()))
    t["alg_lower_case"] = hmac_token({"alg": "hs256"}, compact(claims()))


def claim_tokens(t):
    t["payload_not_json"] = hmac_token({"alg": "HS256"}, "not json")
    t["payload_array"] = hmac_token({"alg": "HS256"}, "[1,2]")
    t["expired"] = sign("HS256", claims(exp=T0 + 100))
    t["nbf_future"] = sign("HS256", claims(nbf=T0 + 5000))
    t["exp_string"] = sign("HS256", claims(exp=str(T0 + 3600)))
    t["nbf_string"] = sign("HS256", claims(nbf=str(T0)))
    t["exp_null"] = hmac_token({"alg": "HS256"}, compact(claims()).replace(
        '"exp":%d' % (T0 + 3600), '"exp":null'))
    # 1e999 is valid JSON that parsers read as infinity (Python's json would write "Infinity").
    t["exp_infinite"] = hmac_token({"alg": "HS256"}, compact(claims()).replace(
        '"exp":%d' % (T0 + 3600), '"exp":1e999'))
    t["claim_infinite"] = hmac_token({"alg": "HS256"}, compact(claims(deep={"x": 0})).replace(
        '"x":0', '"x":-1e999'))
    t["float_dates"] = sign("HS256", claims(nbf=T0 + 0.5, exp=T0 + 3600.5))
    t["no_dates"] = sign("HS256", claims(nbf=DROP, exp=DROP, iat=DROP))
    t["aud_wrong"] = sign("HS256", claims(aud="other"))
    t["aud_array"] = sign("HS256", claims(aud=["other", AUDIENCE]))
    t["aud_array_without"] = sign("HS256", claims(aud=["other", "more"]))
    t["aud_missing"] = sign("HS256", claims(aud=DROP))
    t["aud_number"] = sign("HS256", claims(aud=42))
    t["aud_array_with_number"] = sign("HS256", claims(aud=[1, AUDIENCE]))
    t["iss_wrong"] = sign("HS256", claims(iss="https://evil.example"))
    t["iss_missing"] = sign("HS256", claims(iss=DROP))
    t["sub_number"] = sign("HS256", claims(sub=12345))
    t["sub_missing"] = sign("HS256", claims(sub=DROP))
    t["rooms"] = sign("HS256", claims(rooms=["room:a", "room:b"]))
    t["rooms_string"] = sign("HS256", claims(rooms="room:a"))
    t["rooms_with_number"] = sign("HS256", claims(rooms=["room:a", 1]))
    t["rooms_with_empty_name"] = sign("HS256", claims(rooms=["room:a", ""]))
    t["claims"] = sign("HS256", claims(tenant="acme", level=3, admin=False, name="Zoë",
                                       nested={"a": 1}, list=[1, 2], nothing=None))


def jwks_tokens(t):
    t["jwks_rs256"] = sign("RS256", claims(), kid="rsa-1")
    t["jwks_rs512"] = sign("RS512", claims(), kid="rsa-1")
    t["jwks_es256"] = sign("ES256", claims(), kid="ec-256")
    t["jwks_es384"] = sign("ES384", claims(), kid="ec-384")
    t["jwks_es512"] = sign("ES512", claims(), kid="ec-521")
    t["jwks_hs256"] = sign("HS256", claims(), kid="hmac-1")
    t["jwks_hs384_kid_hmac_1"] = sign("HS384", claims(), kid="hmac-1")  # the JWK says HS256
    t["jwks_rs256_kid_rsa_rs384"] = sign("RS256", claims(), kid="rsa-rs384")  # JWK says RS384
    t["jwks_hs256_kid_rsa_1"] = hmac_token({"alg": "HS256", "kid": "rsa-1"}, compact(claims()),
                                           secret=read("rsa.pub.pem"))
    t["jwks_es256_kid_ec_384"] = sign("ES256", claims(), kid="ec-384")
    t["jwks_kid_unknown"] = sign("RS256", claims(), kid="nope")
    t["jwks_kid_enc"] = sign("RS256", claims(), kid="rsa-enc")
    t["jwks_kid_number"] = hmac_token({"alg": "HS256", "kid": 5}, compact(claims()))


def make_tokens():
    t = {}
    valid_tokens(t)
    bad_signature_tokens(t)
    header_tokens(t)
    claim_tokens(t)
    jwks_tokens(t)
    doc = {"t0": T0, "now": NOW, "audience": AUDIENCE, "issuer": ISSUER, "tokens": t}
    write("tokens.json", json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def main():
    if jwt.__version__.split(".")[0] != "2":
        sys.exit("needs PyJWT 2 (Debian's python3-jwt); run with /usr/bin/python3")
    make_keys()
    make_jwks()
    make_tokens()


if __name__ == "__main__":
    main()
