"""test_auth_jwt: a route's `auth: {type: jwt}` against tokens made at test time (SPEC §5,
docs/auth.md "JWT").

Keys are made once per run with the `openssl` CLI in a temp dir (RSA 2048 twice, EC P-256, two
HMAC secrets from `openssl rand -hex 32`); tokens are made by PyJWT, or by hand (base64url +
Python's hmac, or PyJWT's own signing code) where PyJWT refuses to make the forgery or the odd
header. Nothing is made by wsgated's own code.
Every test starts its own gateway (port 0, inline YAML) and stops it at the end; every step is
bounded (TIMEOUT). Each refusal is paired with the same gateway accepting the token that differs
only in what is checked, so a test fails when the check is missing, not merely when all fails.

What is checked:

- refusals, each a 401 with WWW-Authenticate: Bearer and the body "unauthorized\\n" whatever
  the reason, the reason only in the log: alg none (any case, with or without a signature);
  alg confusion (HS256 "signed" with the RSA public key PEM as the HMAC secret, on a route that
  lists both RS256 and HS256); an algorithm not in the route's list (RS512 by the right key on
  an RS256 route); expired, nbf in the future, and both within `leeway` accepted (the default 5s
  and a route's 30s); wrong aud, wrong iss (and missing ones); tampered payload, tampered
  signature, truncated tokens; a JWKS: unknown kid, a kid naming the other key, no kid with two
  keys;
- a token too big for the request limits never reaches the verifier (docs/protocol.md): a
  64 KiB token in the query is a 400 (request line over 8 KiB), a 20 KiB one in a header or
  cookie a 431 (header fields over 16 KiB), and so is a 64 KiB one in a header; a 12 KiB token
  under those limits is verified and accepted;
- accepted: HS256 (secret file), RS256 (PEM), ES256 (PEM), a two-key JWKS choosing by kid;
- where the token is found: query (percent-decoded), Authorization Bearer (any case), cookie;
  the order of token_from (the first non-empty place wins, a bad token there is not skipped);
  the default token_from (header, query) ignores cookies;
- metrics: wsgate_auth_requests_total{result="denied"|"ok"} and
  wsgate_handshake_failures_total{reason="auth_denied"}; the reasons logged ("refused (401):
  expired" …), never the token;
- identity: `sub` is the user in GET /v1/connections/{id} (with the admin token only), in
  WSGate-User and the connect event; the `rooms` claim is joined and {claims.NAME}, {user}
  templates expand (2.5 as "2.5", true as "true"; a claim with a control character, an array or
  a missing claim joins nothing); POST /v1/users/{sub}/messages reaches the connection; a `sub`
  or room that no /v1 call could name (control characters, over 256 bytes) is refused, as the
  http hook's answers are;
- reload: the HS256 secret file replaced + SIGHUP ("configuration reloaded"): the old secret's
  token is refused, the new one's accepted; a key file made empty is a rejected reload and the
  old secret stays in force.

Run from tests/e2e:  /usr/bin/python3 -m unittest -v test_auth_jwt
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
import unittest
import urllib.parse
from pathlib import Path

import jwt  # PyJWT (Debian: python3-jwt)
import websockets
from cryptography.hazmat.primitives import serialization

import harness
from test_auth_hook import Admin, Answer, HttpServer, backend_answer, upgrade

TIMEOUT = 10.0
ISSUER = "https://login.example"
AUDIENCE = "feed"
UNAUTHORIZED = b"unauthorized\n"
# The refusal reasons of docs/auth.md; none may ever reach the client.
REASONS = ["no token", "too large", "malformed", "algorithm not allowed",
           "key does not fit algorithm", "no key for kid", "bad signature", "expired",
           "not yet valid", "wrong audience", "wrong issuer"]


# ---------------------------------------------------------------------------- keys (openssl CLI)
class Keys:
    """Made once for the whole run in a temp dir, with the openssl CLI."""
    dir: str
    rsa_key: str   # private keys: the "issuer's" side, for PyJWT
    rsa_pem: str   # public keys: what the gateway gets
    rsa2_key: str
    rsa2_pem: str
    ec_key: str
    ec_pem: str
    secret_file: str   # HMAC secret files, as `openssl rand -hex -out FILE 32` writes them
    secret2_file: str
    jwks_file: str     # {"keys": [rsa (kid rsa-1), rsa2 (kid rsa-2)]}

    @staticmethod
    def secret(path: str) -> bytes:
        """The HMAC secret a file holds: its bytes less one trailing newline (docs/auth.md)."""
        data = Path(path).read_bytes()
        return data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data

    @staticmethod
    def read(path: str) -> str:
        return Path(path).read_text()


K = Keys()


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], cwd=K.dir, check=True, capture_output=True, timeout=60)


def _jwk(pem_path: str, **extra) -> dict:
    """A public JWK from a PEM, the way docs/auth.md shows (PyJWT's to_jwk)."""
    public = serialization.load_pem_public_key(Path(pem_path).read_bytes())
    rsa = "RSA" in type(public).__name__
    algo = jwt.algorithms.RSAAlgorithm if rsa else jwt.algorithms.ECAlgorithm
    key = json.loads(algo.to_jwk(public))
    key.update(extra)
    return key


def setUpModule() -> None:
    K.dir = harness.temp_dir()
    unittest.addModuleCleanup(shutil.rmtree, K.dir, True)  # runs even if this fails
    p = lambda name: os.path.join(K.dir, name)  # noqa: E731
    for name in ("rsa", "rsa2"):
        _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                 "-out", p(f"{name}.key"))
        _openssl("pkey", "-in", p(f"{name}.key"), "-pubout", "-out", p(f"{name}.pem"))
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", p("ec.key"))
    _openssl("pkey", "-in", p("ec.key"), "-pubout", "-out", p("ec.pem"))
    _openssl("rand", "-hex", "-out", p("jwt.secret"), "32")
    _openssl("rand", "-hex", "-out", p("jwt2.secret"), "32")
    K.rsa_key, K.rsa_pem = p("rsa.key"), p("rsa.pem")
    K.rsa2_key, K.rsa2_pem = p("rsa2.key"), p("rsa2.pem")
    K.ec_key, K.ec_pem = p("ec.key"), p("ec.pem")
    K.secret_file, K.secret2_file = p("jwt.secret"), p("jwt2.secret")
    K.jwks_file = p("jwks.json")
    jwks = {"keys": [_jwk(K.rsa_pem, kid="rsa-1", alg="RS256", use="sig"),
                     _jwk(K.rsa2_pem, kid="rsa-2", alg="RS256", use="sig")]}
    Path(K.jwks_file).write_text(json.dumps(jwks, indent=2))
    assert len(K.secret(K.secret_file)) == 64, "openssl rand -hex 32: 64 hex digits"


# ---------------------------------------------------------------------------- tokens
def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims(**kw) -> dict:
    """A payload every route accepts (sub, aud, iss, exp in 5 minutes); None drops a claim."""
    base = {"sub": "alice", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 300}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def hs256(payload: dict, secret_file: str | None = None, **kw) -> str:
    return jwt.encode(payload, Keys.secret(secret_file or K.secret_file), algorithm="HS256", **kw)


def signed(payload: dict, key_file: str, alg: str, **kw) -> str:
    return jwt.encode(payload, Keys.read(key_file), algorithm=alg, **kw)


def by_hand(header: dict, payload: dict, secret: bytes | None,
            digest=hashlib.sha256) -> str:
    """A compact JWS built here, for what PyJWT refuses to make: an HMAC over `secret`
    (None: an empty signature)."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    sig = b"" if secret is None else hmac.new(secret, signing_input.encode(), digest).digest()
    return signing_input + "." + b64(sig)


def raw_signed(header: dict, payload: dict, key_file: str, alg: str) -> str:
    """A compact JWS with a header PyJWT would not write (a `kid` that is not a string),
    signed by PyJWT's own algorithm code with the private key."""
    algo = jwt.algorithms.get_default_algorithms()[alg]
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    sig = algo.sign(signing_input.encode(), algo.prepare_key(Keys.read(key_file)))
    return signing_input + "." + b64(sig)


def with_payload(token: str, payload: dict) -> str:
    """`token` with its payload replaced (header and signature kept)."""
    h, _, s = token.split(".")
    return f"{h}.{b64(json.dumps(payload).encode())}.{s}"


def token_of_size(size: int) -> str:
    """A good HS256 token of about `size` bytes (a padding claim; base64 makes 4 of 3)."""
    token = hs256(claims(pad="x" * (size * 3 // 4 - 150)))
    assert abs(len(token) - size) < 256, (len(token), size)
    return token


def flip_signature_bit(token: str) -> str:
    h, p, s = token.split(".")
    sig = bytearray(unb64(s))
    sig[len(sig) // 2] ^= 0x01
    return f"{h}.{p}.{b64(bytes(sig))}"


# ---------------------------------------------------------------------------- the gateway
def jwt_auth(algorithms: list[str], *, key_file: str | None = None, jwks_file: str | None = None,
             token_from: list[str] | None = None, audience: str | None = AUDIENCE,
             issuer: str | None = ISSUER, leeway: str | None = None) -> str:
    items = ["type: jwt", f"algorithms: [{', '.join(algorithms)}]"]
    if key_file:
        items.append(f"key_file: {json.dumps(key_file)}")
    if jwks_file:
        items.append(f"jwks_file: {json.dumps(jwks_file)}")
    if token_from is not None:
        items.append(f"token_from: {json.dumps(token_from)}")
    if audience:
        items.append(f"audience: {json.dumps(audience)}")
    if issuer:
        items.append(f"issuer: {json.dumps(issuer)}")
    if leeway:
        items.append(f"leeway: {leeway}")
    return "{" + ", ".join(items) + "}"


ALL_PLACES = ["query:token", "header:authorization", "cookie:session"]


def standard_routes(secret_file: str) -> list[tuple[str, str]]:
    """(path, auth) for the routes most tests use; each is served by the echo backend."""
    return [
        ("/hs", jwt_auth(["HS256"], key_file=secret_file, token_from=ALL_PLACES)),
        ("/hs-default-places", jwt_auth(["HS256"], key_file=secret_file)),
        ("/hs-open", jwt_auth(["HS256"], key_file=secret_file, audience=None, issuer=None)),
        ("/hs-leeway30", jwt_auth(["HS256"], key_file=secret_file, leeway="30s")),
        ("/rs", jwt_auth(["RS256"], key_file=K.rsa_pem)),
        ("/rs-or-hs", jwt_auth(["RS256", "HS256"], key_file=K.rsa_pem)),
        ("/es", jwt_auth(["ES256"], key_file=K.ec_pem)),
        ("/jwks", jwt_auth(["RS256"], jwks_file=K.jwks_file)),
    ]


def gateway_yaml(admin_token: str, routes: list[tuple[str, str]], *, backend_url: str | None = None,
                 room_templates: list[str] | None = None) -> str:
    backends = ""
    if backend_url:
        backends = f'backends:\n  app: {{type: http, url: "{backend_url}", timeout: 5s}}\n'
    out = ("server:\n"
           "  workers: 2\n"
           '  listen: [{address: "127.0.0.1:0"}]\n'
           "  log: {level: info, format: text}\n"
           "  limits: {handshake_timeout: 5s}\n"
           'admin:\n  listen: "127.0.0.1:0"\n'
           f'  token: "{admin_token}"\n' + backends + "routes:\n")
    for path, auth in routes:
        out += f'  - path: "{path}"\n    backend: {"app" if backend_url else "echo"}\n'
        out += f"    auth: {auth}\n"
        if room_templates:
            out += f"    rooms: {json.dumps(room_templates)}\n"
    return out


class JwtTest(unittest.TestCase):
    """Base: a gateway on the standard routes (or `routes`), its admin API, raw upgrades."""

    def setUp(self) -> None:
        self.admin_token = secrets.token_urlsafe(18)
        self.tmp = harness.temp_dir(self.addCleanup)

    def start(self, routes: list[tuple[str, str]] | None = None, **kw) -> None:
        yaml = gateway_yaml(self.admin_token, routes or standard_routes(K.secret_file), **kw)
        self.gw = harness.start_gateway(yaml, self.addCleanup, tmp=self.tmp)
        self.addr = self.gw.addr()
        self.admin = Admin(self.gw, self.admin_token)

    def up(self, path: str = "/hs", token: str | None = None, *, where: str = "header",
           headers: list[tuple[str, str]] | None = None) -> Answer:
        """An upgrade to `path` with `token` in the Authorization header (where="header"), the
        `token` query parameter (where="query") or the `session` cookie (where="cookie")."""
        hdrs = list(headers or [])
        target = path
        if token is not None:
            if where == "header":
                hdrs.append(("Authorization", f"Bearer {token}"))
            elif where == "query":
                target = f"{path}?token={token}"
            elif where == "cookie":
                hdrs.append(("Cookie", f"session={token}"))
            else:
                raise ValueError(where)
        return upgrade(self.addr, target, hdrs, timeout=TIMEOUT)

    def assert_accepted(self, a: Answer, what: str = "") -> None:
        self.assertEqual(a.status, 101, f"{what}: {a.raw!r}\n{self.gw.stderr[-3000:]}")

    def assert_refused(self, a: Answer, what: str = "") -> None:
        """A 401 that says nothing of why."""
        self.assertEqual(a.status, 401, f"{what}: {a.raw!r}")
        self.assertEqual(a.body, UNAUTHORIZED, what)
        self.assertEqual(a.header("WWW-Authenticate"), "Bearer", what)
        self.assertEqual(a.header("Content-Type"), "text/plain; charset=utf-8", what)
        self.assertNotIn("upgrade", a.names(), what)
        low = a.raw.lower()
        for reason in REASONS:
            self.assertNotIn(reason.encode(), low, f"{what}: the reason reached the client")

    def refused(self, what: str, *args, **kw) -> None:
        self.assert_refused(self.up(*args, **kw), what)

    def accepted(self, what: str, *args, **kw) -> None:
        self.assert_accepted(self.up(*args, **kw), what)

    def wait_log(self, pattern: str, count: int = 1) -> None:
        deadline = time.monotonic() + TIMEOUT
        while len(re.findall(pattern, self.gw.stderr)) < count:
            if time.monotonic() > deadline:
                self.fail(f"{count} log lines matching {pattern!r} expected:\n{self.gw.stderr}")
            time.sleep(0.02)


# ---------------------------------------------------------------------------- algorithms, keys
class AlgorithmTest(JwtTest):
    def test_alg_none_is_refused(self) -> None:
        self.start()
        body = claims()
        for alg in ("none", "None", "NONE", "nOnE"):
            self.refused(f"alg {alg}, no signature", "/hs",
                         by_hand({"alg": alg, "typ": "JWT"}, body, None))
            # A signature that would be right for HS256 does not rescue alg none.
            self.refused(f"alg {alg} with a valid HMAC", "/hs",
                         by_hand({"alg": alg, "typ": "JWT"}, body, Keys.secret(K.secret_file)))
        self.refused("alg none on an RSA route", "/rs", by_hand({"alg": "none"}, body, None))
        # The same claims with the route's algorithm and key: accepted.
        self.accepted("HS256, the route's secret", "/hs",
                      by_hand({"alg": "HS256", "typ": "JWT"}, body, Keys.secret(K.secret_file)))
        self.wait_log(r"refused \(401\): algorithm not allowed")

    def test_hs256_signed_with_the_rsa_public_key_is_refused(self) -> None:
        # The classic confusion: the route lists RS256 and HS256 with an RSA key_file; a forger
        # "signs" HS256 with the public PEM file as the HMAC secret (as a verifier that takes
        # the key file's bytes as the secret would check it). PyJWT refuses to make this token.
        self.start()
        pem = Path(K.rsa_pem).read_bytes()
        body = claims(sub="mallory")
        for secret in (pem, pem.rstrip(b"\n"), pem.strip()):
            self.refused("HS256 with the PEM as secret", "/rs-or-hs",
                         by_hand({"alg": "HS256", "typ": "JWT"}, body, secret))
        self.accepted("RS256 by the key's owner", "/rs-or-hs", signed(body, K.rsa_key, "RS256"))
        self.wait_log(r"refused \(401\): key does not fit algorithm")

    def test_algorithm_not_in_the_routes_list(self) -> None:
        self.start()
        body = claims()
        # RS512 with the right key: the signature is good, only the route's list refuses it.
        self.refused("RS512 on an RS256 route", "/rs", signed(body, K.rsa_key, "RS512"))
        self.refused("RS384 on an RS256 route", "/rs", signed(body, K.rsa_key, "RS384"))
        self.refused("HS512 on an HS256 route", "/hs",
                     jwt.encode(body, Keys.secret(K.secret_file), algorithm="HS512"))
        self.refused("lower-case alg", "/rs",
                     by_hand({"alg": "rs256"}, body, None))
        self.accepted("RS256 on an RS256 route", "/rs", signed(body, K.rsa_key, "RS256"))
        self.wait_log(r"refused \(401\): algorithm not allowed")

    def test_valid_hs256_rs256_es256(self) -> None:
        self.start()
        body = claims()
        self.accepted("HS256 (secret file)", "/hs", hs256(body))
        self.accepted("RS256 (PEM)", "/rs", signed(body, K.rsa_key, "RS256"))
        self.accepted("ES256 (PEM)", "/es", signed(body, K.ec_key, "ES256"))
        # Each key only verifies its own signatures.
        self.refused("HS256, another secret", "/hs", hs256(body, K.secret2_file))
        self.refused("RS256, another RSA key", "/rs", signed(body, K.rsa2_key, "RS256"))
        self.refused("ES256 on the RSA route", "/rs", signed(body, K.ec_key, "ES256"))
        self.refused("RS256 on the EC route", "/es", signed(body, K.rsa_key, "RS256"))
        self.assertEqual(self.admin.auth_results(), {"ok": 3.0, "denied": 4.0})

    def test_jwks_chooses_the_key_by_kid(self) -> None:
        self.start()
        body = claims()
        self.accepted("rsa-1's token", "/jwks", signed(body, K.rsa_key, "RS256",
                                                      headers={"kid": "rsa-1"}))
        self.accepted("rsa-2's token", "/jwks", signed(body, K.rsa2_key, "RS256",
                                                      headers={"kid": "rsa-2"}))
        # kid names the key; a good signature by the other key of the set is not enough.
        self.refused("rsa-2's signature under kid rsa-1", "/jwks",
                     signed(body, K.rsa2_key, "RS256", headers={"kid": "rsa-1"}))
        self.wait_log(r"refused \(401\): bad signature")
        self.refused("unknown kid", "/jwks", signed(body, K.rsa_key, "RS256",
                                                   headers={"kid": "rsa-3"}))
        self.wait_log(r"refused \(401\): no key for kid")
        self.refused("no kid, two keys", "/jwks", signed(body, K.rsa_key, "RS256"))
        self.refused("kid not a string", "/jwks",
                     raw_signed({"alg": "RS256", "kid": ["rsa-1"]}, body, K.rsa_key, "RS256"))
        self.accepted("the same, built by hand, with a string kid", "/jwks",
                      raw_signed({"alg": "RS256", "kid": "rsa-1"}, body, K.rsa_key, "RS256"))
        self.assertEqual(self.admin.auth_results(), {"ok": 3.0, "denied": 4.0})


# ---------------------------------------------------------------------------- the token's form
class FormTest(JwtTest):
    def test_tampered_payload(self) -> None:
        self.start()
        good = hs256(claims(sub="alice"))
        self.accepted("as signed", "/hs", good)
        self.refused("sub changed", "/hs", with_payload(good, claims(sub="admin")))
        rs = signed(claims(sub="alice"), K.rsa_key, "RS256")
        self.accepted("as signed (RS256)", "/rs", rs)
        self.refused("sub changed (RS256)", "/rs", with_payload(rs, claims(sub="admin")))
        self.wait_log(r"refused \(401\): bad signature")

    def test_tampered_signature(self) -> None:
        self.start()
        for path, token in (("/hs", hs256(claims())),
                            ("/rs", signed(claims(), K.rsa_key, "RS256")),
                            ("/es", signed(claims(), K.ec_key, "ES256"))):
            self.accepted(f"{path}: as signed", path, token)
            self.refused(f"{path}: one signature bit flipped", path, flip_signature_bit(token))
            h, p, s = token.split(".")
            self.refused(f"{path}: signature of another token", path,
                         f"{h}.{p}.{hs256(claims(sub='bob')).split('.')[2]}")
            self.refused(f"{path}: signature with a byte more", path,
                         f"{h}.{p}.{b64(unb64(s) + b'x')}")

    def test_truncated_tokens(self) -> None:
        self.start()
        good = hs256(claims())
        h, p, s = good.split(".")
        for what, token in (("last 10 characters cut", good[:-10]),
                            ("half", good[:len(good) // 2]),
                            ("no signature", f"{h}.{p}."),
                            ("two parts", f"{h}.{p}"),
                            ("header only", h),
                            ("signature one character short", f"{h}.{p}.{s[:-1]}"),
                            ("a fourth part", f"{good}.{s}"),
                            ("padding added", f"{h}.{p}.{s}=")):
            self.refused(what, "/hs", token)
        self.accepted("whole", "/hs", good)
        self.wait_log(r"refused \(401\): (malformed|bad signature)")

    # docs/protocol.md: header fields over 16 KiB together are a 431, a request line over
    # 8 KiB a 400, both checked before any route or auth: such a token never reaches the
    # verifier (whose own 16 KiB limit is for what gets past those).
    def test_64_kib_token_in_the_query_is_400(self) -> None:
        self.start()
        big = token_of_size(64 * 1024)
        a = self.up("/hs", big, where="query")
        self.assertEqual(a.status, 400, a.raw[:300])
        self.assertNotEqual(a.body, UNAUTHORIZED)
        self.assertEqual(self.admin.auth_results(), {}, "no auth check ran")

    def test_token_over_16_kib_in_a_header_is_431(self) -> None:
        self.start()
        big = token_of_size(20 * 1024)  # over 16 KiB, under the parser's 24 KiB
        for where in ("header", "cookie"):
            a = self.up("/hs", big, where=where)
            self.assertEqual((a.status, a.body), (431, b"request header too large\n"),
                             f"{where}: {a.raw[:300]!r}")
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total", reason="too_large"),
                         2.0)
        self.assertEqual(self.admin.auth_results(), {}, "no auth check ran")

    def test_64_kib_token_in_a_header_is_431(self) -> None:
        # Past the HTTP parser's own limit (8 + 16 KiB) Beast has already taken the request
        # line from the buffer: the answer must still be 431, not 400.
        self.start()
        big = token_of_size(64 * 1024)
        for where in ("header", "cookie"):
            a = self.up("/hs", big, where=where)
            self.assertEqual((a.status, a.body), (431, b"request header too large\n"),
                             f"{where}: {a.raw[:300]!r}")

    def test_12_kib_token_is_verified(self) -> None:
        # Under the request limits, a big token is verified as any other.
        self.start()
        mid = token_of_size(12 * 1024)
        self.accepted("a 12 KiB token", "/hs", mid)
        self.refused("a 12 KiB token, tampered", "/hs", flip_signature_bit(mid))
        self.assertEqual(self.admin.auth_results(), {"ok": 1.0, "denied": 1.0})


# ---------------------------------------------------------------------------- claims
class ClaimsTest(JwtTest):
    def test_expired(self) -> None:
        self.start()
        now = int(time.time())
        self.refused("expired a minute ago", "/hs", hs256(claims(exp=now - 60)))
        self.refused("expired 20s ago (default leeway 5s)", "/hs", hs256(claims(exp=now - 20)))
        self.refused("exp not a number", "/hs", hs256(claims(exp=str(now + 60))))
        self.accepted("expires in a minute", "/hs", hs256(claims(exp=now + 60)))
        self.accepted("no exp at all", "/hs", hs256(claims(exp=None)))
        self.wait_log(r"refused \(401\): expired")

    def test_not_yet_valid(self) -> None:
        self.start()
        now = int(time.time())
        self.refused("nbf in a minute", "/hs", hs256(claims(nbf=now + 60)))
        self.refused("nbf in 20s (default leeway 5s)", "/hs", hs256(claims(nbf=now + 20)))
        self.accepted("nbf a minute ago", "/hs", hs256(claims(nbf=now - 60)))
        self.wait_log(r"refused \(401\): not yet valid")

    def test_within_leeway_accepted(self) -> None:
        self.start()
        now = int(time.time())
        # Default leeway 5s: a token expired 2s ago, or valid from 2s on, is still taken.
        self.accepted("exp 2s ago", "/hs", hs256(claims(exp=now - 2)))
        self.accepted("nbf in 2s", "/hs", hs256(claims(nbf=now + 2)))
        self.accepted("fractional exp 2.5s ago", "/hs", hs256(claims(exp=time.time() - 2.5)))
        # A route's leeway: 30s.
        self.accepted("exp 20s ago, leeway 30s", "/hs-leeway30", hs256(claims(exp=now - 20)))
        self.accepted("nbf in 20s, leeway 30s", "/hs-leeway30", hs256(claims(nbf=now + 20)))
        self.refused("exp 60s ago, leeway 30s", "/hs-leeway30", hs256(claims(exp=now - 60)))
        self.refused("nbf in 60s, leeway 30s", "/hs-leeway30", hs256(claims(nbf=now + 60)))

    def test_wrong_audience(self) -> None:
        self.start()
        self.refused("aud other", "/hs", hs256(claims(aud="billing")))
        self.refused("aud list without ours", "/hs", hs256(claims(aud=["billing", "FEED"])))
        self.refused("no aud", "/hs", hs256(claims(aud=None)))
        self.refused("aud not a string", "/hs", hs256(claims(aud=7)))
        self.accepted("aud ours", "/hs", hs256(claims(aud=AUDIENCE)))
        self.accepted("aud list with ours", "/hs", hs256(claims(aud=["billing", AUDIENCE])))
        self.accepted("no audience configured: aud ignored", "/hs-open",
                      hs256(claims(aud="billing")))
        self.wait_log(r"refused \(401\): wrong audience")

    def test_wrong_issuer(self) -> None:
        self.start()
        self.refused("iss other", "/hs", hs256(claims(iss="https://evil.example")))
        self.refused("iss with a slash more", "/hs", hs256(claims(iss=ISSUER + "/")))
        self.refused("no iss", "/hs", hs256(claims(iss=None)))
        self.accepted("iss ours", "/hs", hs256(claims(iss=ISSUER)))
        self.accepted("no issuer configured: iss ignored", "/hs-open",
                      hs256(claims(iss="https://evil.example")))
        self.wait_log(r"refused \(401\): wrong issuer")


# ---------------------------------------------------------------------------- where the token is
class TokenPlaceTest(JwtTest):
    def test_each_place(self) -> None:
        self.start()
        good = hs256(claims())
        self.accepted("query", "/hs", good, where="query")
        self.accepted("Authorization: Bearer", "/hs", good, where="header")
        self.accepted("cookie", "/hs", good, where="cookie")
        self.accepted("Authorization: bearer (any case)", "/hs",
                      headers=[("Authorization", f"bEaReR {good}")])
        self.accepted("cookie among others, quoted", "/hs",
                      headers=[("Cookie", f'theme=dark; session="{good}"; x=1')])
        quoted = urllib.parse.quote(good, safe="").replace(".", "%2E")
        self.assert_accepted(upgrade(self.addr, f"/hs?a=1&token={quoted}&b=2", []),
                             "query, percent-encoded, among other parameters")
        self.refused("nowhere", "/hs")
        self.wait_log(r"refused \(401\): no token")
        self.refused("another cookie name", "/hs", headers=[("Cookie", f"sess={good}")])
        self.assert_refused(upgrade(self.addr, f"/hs?tok={good}", []), "another query name")
        self.refused("Basic scheme", "/hs", headers=[("Authorization", f"Basic {good}")])

    def test_order_first_non_empty_place_wins(self) -> None:
        # token_from: [query:token, header:authorization, cookie:session]
        self.start()
        good, bad = hs256(claims()), hs256(claims(), K.secret2_file)
        q = lambda t: f"/hs?token={t}"  # noqa: E731
        hdr = lambda t: ("Authorization", f"Bearer {t}")  # noqa: E731
        ck = lambda t: ("Cookie", f"session={t}")  # noqa: E731
        self.assert_accepted(upgrade(self.addr, q(good), [hdr(bad), ck(bad)]), "query first")
        self.assert_refused(upgrade(self.addr, q(bad), [hdr(good), ck(good)]),
                            "a bad token in the first place is not skipped")
        self.assert_accepted(upgrade(self.addr, "/hs", [hdr(good), ck(bad)]), "then the header")
        self.assert_refused(upgrade(self.addr, "/hs", [hdr(bad), ck(good)]), "header before cookie")
        self.assert_accepted(upgrade(self.addr, "/hs?token=", [hdr(good)]),
                             "an empty query value is no token: the next place")
        self.assert_accepted(upgrade(self.addr, "/hs?token=", [("Authorization", "Bearer "),
                                                               ck(good)]),
                             "an empty Bearer is no token: the cookie")

    def test_default_places_are_header_then_query(self) -> None:
        self.start()
        good, bad = hs256(claims()), hs256(claims(), K.secret2_file)
        self.accepted("header", "/hs-default-places", good, where="header")
        self.accepted("query", "/hs-default-places", good, where="query")
        self.refused("cookie is not a default place", "/hs-default-places", good, where="cookie")
        self.assert_refused(upgrade(self.addr, f"/hs-default-places?token={good}",
                                    [("Authorization", f"Bearer {bad}")]), "header first")


# ---------------------------------------------------------------------------- metrics and logs
class RefusalReportTest(JwtTest):
    def test_metrics_count_refusals_and_accepts(self) -> None:
        self.start()
        self.assertEqual(self.admin.auth_results(), {})
        now = int(time.time())
        refusals = [("/hs", None), ("/hs", hs256(claims(exp=now - 60))),
                    ("/hs", hs256(claims(aud="x"))), ("/rs", signed(claims(), K.rsa_key, "RS512")),
                    ("/hs", "not.a.token")]
        for path, token in refusals:
            self.refused(f"{path} {token and token[:20]}", path, token)
        for _ in range(2):
            self.accepted("good", "/hs", hs256(claims()))
        self.assertEqual(self.admin.auth_results(), {"denied": 5.0, "ok": 2.0})
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total",
                                            reason="auth_denied"), 5.0)
        self.assertEqual(self.admin.counter("wsgate_handshake_failures_total"), 5.0,
                         "no other failure reason")

    def test_reasons_are_logged_never_sent(self) -> None:
        self.start()
        now = int(time.time())
        body = claims()
        cases = [
            ("no token", "/hs", None),
            ("malformed", "/hs", "a.b.c"),
            ("algorithm not allowed", "/rs", signed(body, K.rsa_key, "RS512")),
            ("key does not fit algorithm", "/rs-or-hs",
             by_hand({"alg": "HS256"}, body, Path(K.rsa_pem).read_bytes())),
            ("no key for kid", "/jwks", signed(body, K.rsa_key, "RS256", headers={"kid": "x"})),
            ("bad signature", "/hs", hs256(body, K.secret2_file)),
            ("expired", "/hs", hs256(claims(exp=now - 60))),
            ("not yet valid", "/hs", hs256(claims(nbf=now + 60))),
            ("wrong audience", "/hs", hs256(claims(aud="x"))),
            ("wrong issuer", "/hs", hs256(claims(iss="x"))),
        ]
        for i, (reason, path, token) in enumerate(cases):
            if i == 5:
                time.sleep(1.1)  # the refusal log allows 10 lines a second: stay under it
            a = self.up(path, token)
            self.assert_refused(a, reason)
            self.wait_log(rf"(?m)handshake from 127\.0\.0\.1\b.* to {re.escape(path)} "
                          rf"refused \(401\): {re.escape(reason)}( \(|$)")
        log = self.gw.stderr
        for line in log.splitlines():
            if "refused (401)" in line:
                self.assertRegex(line, r"\binfo\b", "logged at info level")
        for _, _, token in cases:
            if token:
                for part in token.split("."):
                    if len(part) > 8:
                        self.assertNotIn(part, log, "no part of a token is logged")


# ---------------------------------------------------------------------------- the identity
class IdentityTest(JwtTest):
    def test_sub_rooms_claims_and_user_messages(self) -> None:
        asyncio.run(self.sub_rooms_claims_and_user_messages())

    async def sub_rooms_claims_and_user_messages(self) -> None:
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start([("/app/{room}", jwt_auth(["HS256"], key_file=K.secret_file))],
                   backend_url=backend.url("/ws"),
                   room_templates=["room:{room}", "tenant:{claims.tenant}", "user:{user}",
                                   "level:{claims.level}", "ratio:{claims.ratio}",
                                   "admin:{claims.admin}", "missing:{claims.nope}",
                                   "groups:{claims.groups}", "evil:{claims.evil}"])
        body = claims(sub="alice", rooms=["vip", "team 7"], tenant="acme", level=3, ratio=2.5,
                      admin=True, groups=["a", "b"], evil="ac\nme")
        token = hs256(body)
        async with websockets.connect(self.gw.url(0, "/app/lobby"), open_timeout=TIMEOUT,
                                      extra_headers={"Authorization": f"Bearer {token}"}) as ws:
            conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)
            status, info = self.admin.call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual(status, 200, info)
            self.assertEqual(info["user"], "alice", "sub is the user")
            self.assertEqual(info["rooms"], sorted(["room:lobby", "tenant:acme", "user:alice",
                                                    "level:3", "ratio:2.5", "admin:true", "vip",
                                                    "team 7"]),
                             "the rooms claim joined, the templates expanded from sub and claims "
                             "(numbers as JavaScript writes them); a missing, array or "
                             "control-character claim joins nothing")
            self.assertEqual(info["claims"]["tenant"], "acme")
            self.assertEqual(info["claims"]["groups"], ["a", "b"])
            self.assertEqual(info["claims"]["evil"], "ac\nme", "every claim is kept")
            self.assertEqual(info["claims"]["sub"], "alice")
            # The admin token is needed to see it.
            other = Admin(self.gw, "not-the-token")
            status, _ = other.call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual(status, 401)
            # POST /v1/users/{sub}/messages reaches the connection.
            status, ans = self.admin.call("POST", "/v1/users/alice/messages", b"hello alice")
            self.assertEqual((status, ans), (202, {"user": "alice", "connections": 1}))
            self.assertEqual(await asyncio.wait_for(ws.recv(), TIMEOUT), "hello alice")
            status, room = self.admin.call("GET", "/v1/rooms/team%207")
            self.assertEqual(room["members"], 1, "the rooms claim's room is joined")
            # The backend saw the user too.
            connect = [c for c in backend.calls if c.header("WSGate-Event") == "connect"]
            self.assertEqual(len(connect), 1)
            self.assertEqual(connect[0].header("WSGate-User"), "alice")
            event = json.loads(connect[0].body)
            self.assertEqual(event["user"], "alice")
            self.assertEqual(event["claims"]["tenant"], "acme")
        status, ans = self.admin.call("POST", "/v1/users/bob/messages", b"x")
        self.assertEqual(ans.get("connections", 0), 0, "nobody else is a user")
        self.assertEqual(self.admin.auth_results(), {"ok": 1.0})

    def test_no_sub_is_anonymous(self) -> None:
        asyncio.run(self.no_sub_is_anonymous())

    async def no_sub_is_anonymous(self) -> None:
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start([("/app/{room}", jwt_auth(["HS256"], key_file=K.secret_file))],
                   backend_url=backend.url("/ws"), room_templates=["user:{user}", "room:{room}"])
        async with websockets.connect(self.gw.url(0, "/app/x"), open_timeout=TIMEOUT,
                                      extra_headers={"Authorization":
                                                     f"Bearer {hs256(claims(sub=None))}"}) as ws:
            conn_id = await asyncio.wait_for(ws.recv(), TIMEOUT)
            _, info = self.admin.call("GET", f"/v1/connections/{conn_id}")
            self.assertEqual((info["user"], info["rooms"]), (None, ["room:x"]))

    def test_unaddressable_sub_or_room_is_refused(self) -> None:
        # A user or room goes into WSGate-User and the control API's paths; the http hook
        # refuses names with control characters or over 256 bytes (docs/auth.md), and so must
        # a token, else "alice\r\nX-Injected: 1" would write a header of its own to the backend.
        backend = HttpServer(backend_answer, self.addCleanup)
        self.start([("/app/{room}", jwt_auth(["HS256"], key_file=K.secret_file))],
                   backend_url=backend.url("/ws"))
        for what, body in (("sub with CRLF", claims(sub="alice\r\nX-Injected: 1")),
                           ("sub with a NUL", claims(sub="al\u0000ice")),
                           ("sub with DEL", claims(sub="alice\u007f")),
                           ("sub of 257 bytes", claims(sub="u" * 257)),
                           ("empty sub", claims(sub="")),
                           ("room with a tab", claims(rooms=["ok", "bad\troom"])),
                           ("room of 257 bytes", claims(rooms=["r" * 257])),
                           ("sub not a string", claims(sub=7)),
                           ("rooms not an array", claims(rooms="vip"))):
            self.refused(what, "/app/x", hs256(body))
        for call in backend.calls:
            self.assertNotIn("x-injected", {k.lower() for k, _ in call.headers})
        self.accepted("the same with usable names", "/app/x",
                      hs256(claims(sub="u" * 256, rooms=["ok", "good room", "r" * 256])))


# ---------------------------------------------------------------------------- reload
class ReloadTest(JwtTest):
    def test_sighup_rereads_the_secret_file(self) -> None:
        secret_file = os.path.join(self.tmp, "jwt.secret")
        shutil.copyfile(K.secret_file, secret_file)
        self.start(standard_routes(secret_file))
        old, new = hs256(claims(), K.secret_file), hs256(claims(), K.secret2_file)
        self.accepted("old secret before the reload", "/hs", old)
        self.refused("new secret before the reload", "/hs", new)
        # Replace the file (write + rename, as a deploy tool would), then SIGHUP.
        tmp = secret_file + ".new"
        shutil.copyfile(K.secret2_file, tmp)
        os.replace(tmp, secret_file)
        self.gw.proc.send_signal(signal.SIGHUP)
        self.wait_log(r"configuration reloaded")
        self.refused("old secret after the reload", "/hs", old)
        self.accepted("new secret after the reload", "/hs", new)
        # A key file that turns bad rejects the reload; the keys in force stay.
        Path(secret_file).write_bytes(b"")
        self.gw.proc.send_signal(signal.SIGHUP)
        self.wait_log(r"reload rejected")
        self.accepted("new secret still in force", "/hs", new)
        self.refused("old secret still refused", "/hs", old)
        # Written in place this time (no rename): read again too.
        Path(secret_file).write_bytes(Path(K.secret_file).read_bytes())
        self.gw.proc.send_signal(signal.SIGHUP)
        self.wait_log(r"configuration reloaded", 2)
        self.accepted("old secret again", "/hs", old)
        self.refused("new secret now refused", "/hs", new)
        self.assertIsNone(self.gw.proc.poll(), "the gateway is still running")


if __name__ == "__main__":
    unittest.main()
