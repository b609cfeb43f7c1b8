#!/usr/bin/env python3
"""A chat room behind wsgated's http backend (docs/backends.md), Python standard library only.

    python3 examples/python/chat_backend.py [--unix PATH]  # and: wsgated --config config/chat.yaml

connect: join room:<room>, say welcome; message: publish "<who>: <text>" to the others in the
room through the control API; "/quit": close 4000. Environment: PORT (8000, on 127.0.0.1),
WSGATED_ADMIN_URL (http://127.0.0.1:9090), WSGATED_ADMIN_TOKEN (dev-token, as config/chat.yaml).
"""
import argparse, json, os, socketserver, sys, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADMIN = os.environ.get("WSGATED_ADMIN_URL", "http://127.0.0.1:9090").rstrip("/")
TOKEN = os.environ.get("WSGATED_ADMIN_TOKEN", "dev-token")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no http_proxy from env


def publish(room, text, exclude):
    q = urllib.parse.quote
    req = urllib.request.Request(
        f"{ADMIN}/v1/rooms/{q(room, safe=':')}/messages?exclude={q(exclude, safe='')}",
        data=text.encode(), method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain; charset=utf-8"})
    try:
        DIRECT.open(req, timeout=5).close()
    except OSError as e:  # URLError, HTTPError (a non-2xx answer), timeouts
        print(f"publish to {room} failed: {e}", file=sys.stderr)


class ChatHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools its connections

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event, conn = self.header("WSGate-Event"), self.header("WSGate-Connection-Id")
        who = self.header("WSGate-User") or conn  # the header is absent when anonymous
        param = json.loads(self.header("WSGate-Params") or "{}").get("room", "lobby")
        room = "room:" + param
        if event == "connect":
            return self.answer(200, f"welcome to {param}, {who}", {"WSGate-Join": room})
        if event == "message" and self.header("Content-Type").startswith("text/"):
            text = body.decode("utf-8")
            if text.strip() == "/quit":
                return self.answer(204, headers={"WSGate-Close": "4000 bye"})
            publish(room, f"{who}: {text}", exclude=conn)
        self.answer(204)  # published, binary, disconnect: no reply

    def header(self, name):  # header values are UTF-8; http.server decodes them as latin-1
        return self.headers.get(name, "").encode("latin-1").decode("utf-8", "replace")

    def answer(self, status, text="", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value.encode().decode("latin-1"))  # sent as UTF-8
        data = text.encode()
        if status != 204:  # a 204 has no body and no Content-Length (RFC 9110)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def address_string(self):  # a Unix socket peer has no address
        return self.client_address[0] if self.client_address else "unix"


def main():
    ap = argparse.ArgumentParser(description="wsgated chat backend (http)")
    ap.add_argument("--unix", metavar="PATH", help="listen on this Unix socket instead of TCP")
    args = ap.parse_args()
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)  # a stale socket from an earlier run
        server = socketserver.ThreadingUnixStreamServer(args.unix, ChatHandler)
        server.daemon_threads, where = True, f"unix:{args.unix}"
    else:
        port = int(os.environ.get("PORT", "8000"))
        server, where = ThreadingHTTPServer(("127.0.0.1", port), ChatHandler), f"127.0.0.1:{port}"
    print(f"chat backend on {where}, control API {ADMIN}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
