#!/usr/bin/env python3
"""The browser chat of examples/chat/, backend in Python (standard library only).

    examples/chat/run python          # this + wsgated --config examples/chat/gateway.yaml

One HTTP server on 127.0.0.1:PORT (default 8000) that is three things at once:

  GET  /, /chat.js      the page (examples/chat/public/)
  GET  /config.json     {"ws_url": CHAT_WS_URL}: where the page connects (default below)
  GET  /auth            wsgated's auth hook (docs/auth.md): the user name from ?name= in
                        WSGate-Path, else the chat_name cookie; 1-32 of [A-Za-z0-9_.-], else 401
  POST /events          wsgated's http backend (docs/backends.md): connect, message, disconnect

On connect and disconnect it counts the room (GET /v1/rooms/room:ROOM on the control API) and
publishes {"type":"presence",…} to the room; a text message becomes {"type":"chat",…} published
to the whole room, sender included. Environment: PORT, WSGATED_ADMIN_URL
(http://127.0.0.1:9090), WSGATED_ADMIN_TOKEN (the gateway's admin.token), CHAT_WS_URL.
examples/chat/backend.js and backend.php do the same.
"""
import datetime, json, os, re, sys, threading, urllib.error, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ADMIN = os.environ.get("WSGATED_ADMIN_URL", "http://127.0.0.1:9090").rstrip("/")
TOKEN = os.environ.get("WSGATED_ADMIN_TOKEN", "")
WS_URL = os.environ.get("CHAT_WS_URL", "ws://127.0.0.1:8080/chat/{room}")
PUBLIC = Path(__file__).resolve().parent / "public"
STATIC = {"/": ("index.html", "text/html; charset=utf-8"),
          "/index.html": ("index.html", "text/html; charset=utf-8"),
          "/chat.js": ("chat.js", "text/javascript; charset=utf-8")}
NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # user and room names
MAX_TEXT = 500  # characters in one chat line
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no http_proxy from env

# Presence: count, then publish, one event at a time per room, so that the last count a room
# hears was taken after the last join or leave (two counts published out of order would
# leave the pages showing the older one).
_locks, _locks_guard = {}, threading.Lock()


def room_lock(room):
    with _locks_guard:
        return _locks.setdefault(room, threading.Lock())


def control(method, path, body=None):
    """One control API call; the parsed JSON answer, or None (logged) when it failed."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if body is not None:
        headers["Content-Type"] = "text/plain; charset=utf-8"  # text/*: a text frame
    req = urllib.request.Request(ADMIN + path, data=body, method=method, headers=headers)
    try:
        with DIRECT.open(req, timeout=5) as res:
            return json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        print(f"{method} {path}: {e.code} {e.read()[:200]!r}", file=sys.stderr)
    except (OSError, ValueError) as e:
        print(f"{method} {path} failed: {e}", file=sys.stderr)
    return None


def publish(room, message):
    q = urllib.parse.quote(room, safe="")
    control("POST", f"/v1/rooms/{q}/messages", json.dumps(message).encode())


def push_presence(room, event, user):
    with room_lock(room):
        info = control("GET", f"/v1/rooms/{urllib.parse.quote(room, safe='')}")
        if info is not None:
            publish(room, {"type": "presence", "room": room.split(":", 1)[1],
                           "count": info["members"], "event": event, "user": user})


def now():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ChatHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools its connections

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path in STATIC:
            name, kind = STATIC[url.path]
            return self.answer(200, (PUBLIC / name).read_bytes(), kind)
        if url.path == "/config.json":
            return self.answer(200, json.dumps({"ws_url": WS_URL}).encode(), "application/json")
        if url.path == "/auth":
            return self.auth()
        self.answer(404, b"not found\n")

    def auth(self):
        """The hook: GET with WSGate-Path (/chat/ROOM?name=…) and the client's Cookie."""
        target = urllib.parse.urlsplit(self.header("WSGate-Path"))
        room = urllib.parse.unquote(target.path.rsplit("/", 1)[-1])
        name = urllib.parse.parse_qs(target.query).get("name", [None])[0]
        if name is None:
            for part in self.header("Cookie").split(";"):
                key, _, value = part.strip().partition("=")
                if key == "chat_name":
                    name = urllib.parse.unquote(value)
        if not NAME.fullmatch(room):
            return self.answer(400, b"bad room name\n")
        if name is None or not NAME.fullmatch(name):
            return self.answer(401, b"a name of 1 to 32 letters, digits, '_', '-' or '.' is needed\n",
                               headers={"WWW-Authenticate": 'Name realm="chat"'})
        self.answer(200, json.dumps({"user": name}).encode(), "application/json")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urllib.parse.urlsplit(self.path).path != "/events":
            return self.answer(404, b"not found\n")
        event = self.header("WSGate-Event")
        user = self.header("WSGate-User") or self.header("WSGate-Connection-Id")[:8]
        param = json.loads(self.header("WSGate-Params") or "{}").get("room", "lobby")
        room = "room:" + param  # the route's rooms: ["room:{room}"] joined it already
        if event == "connect":
            push_presence(room, "join", user)
            welcome = {"type": "welcome", "user": user, "room": param}
            return self.answer(200, json.dumps(welcome).encode())
        if event == "disconnect":
            push_presence(room, "leave", user)
        elif event == "message" and self.header("Content-Type").startswith("text/"):
            text = body.decode("utf-8").strip()
            if len(text) > MAX_TEXT:
                error = {"type": "error", "text": f"not sent: over {MAX_TEXT} characters"}
                return self.answer(200, json.dumps(error).encode())
            if text:
                publish(room, {"type": "chat", "user": user, "text": text, "time": now()})
        self.answer(204)  # published (or binary, or empty): no reply

    def header(self, name):  # header values are UTF-8; http.server decodes them as latin-1
        return self.headers.get(name, "").encode("latin-1").decode("utf-8", "replace")

    def answer(self, status, data=b"", kind="text/plain; charset=utf-8", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:  # a 204 has no body and no Content-Length (RFC 9110)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
        try:
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the gateway gave up (drain, timeout)
            self.close_connection = True

    def log_message(self, fmt, *args):  # one line per request on stderr, without the date
        print(f"{self.address_string()} {fmt % args}", file=sys.stderr)


def main():
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("127.0.0.1", port), ChatHandler)
    if not TOKEN:
        print("WSGATED_ADMIN_TOKEN is not set: control API calls will be refused",
              file=sys.stderr)
    print(f"chat backend (python) on http://127.0.0.1:{port}/, control API {ADMIN}",
          file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
