#!/usr/bin/python3
"""Loopback HTTP server for the download tests (standard library only).

Usage:
  /usr/bin/python3 tests/tools/http_server.py --root DIR [--port 0] [--log FILE]
                                              [--drive form|href|refuse|direct] [--watch-stdin]
                                              [--tls-cert FILE --tls-key FILE]

  --root DIR     folder served: GET /a/b.zip answers DIR/a/b.zip (symbolic links inside DIR
                 are followed, so a test can link a large file in instead of copying it)
  --port N       port on 127.0.0.1 (default 0: any free port)
  --log FILE     appends one JSON object per request:
                 {"method", "path", "query", "range", "status", "cookie"}
  --drive MODE   default behaviour of /drive.google.com/<id> paths (default: form)
  --watch-stdin  exit when standard input reaches end of file (the parent died)
  --tls-cert F   serve HTTPS with this certificate (PEM, chain first) and --tls-key (PEM)

Once listening it prints "PORT <n>" on one line of stdout and flushes.

Fault modes are path prefixes, so a whole mirror can be put behind one
(MSINET_MIRROR=http://127.0.0.1:PORT/_drop=1000 serves DIR/... with that fault):
  /_drop=N/...     first request of each path: headers with the full length, N body bytes,
                   then the connection is closed; later requests are served normally
  /_stall=N/...    first request of each path: N body bytes, then silence for 30 s
  /_status=C/...   always answers status C (e.g. 404), small text body
  /_fail=K/...     the first K requests of each path answer 500, then normal
  /_norange/...    ignores Range headers (always 200 with the whole file)
  /_nolength/...   no Content-Length: the body ends when the connection closes
  /_gd=MODE/...    overrides --drive for the paths behind it
  /_trickle=N/...  every request: headers with the full length, N body bytes, connection closed
  /_redirect=N/... N redirects (302) before the file: to /_redirect=N-1/..., the last one to
                   the path without the prefix
  /_loop/...       a redirect (302) to the same address, for ever
  /_tohttp=P/...   a redirect (302) to http://127.0.0.1:P/ and the rest of the path
  /_tohttps=P/...  a redirect (302) to https://127.0.0.1:P/ and the rest of the path
Prefixes combine in any order (/_fail=1/_drop=100/...). Range requests (bytes=N- and
bytes=N-M) get 206 with Content-Range, or 416 when N is past the end.

Google Drive emulation, for a path .../drive.google.com/<id> whose file is DIR/drive.google.com/<id>:
  form    an HTML page (text/html) with <form id="download-form" action=".../download"> and
          hidden inputs id, export, confirm=t, uuid, as drive.usercontent.google.com serves;
          GET .../download?id=<id>&export=download&confirm=t&uuid=<uuid> answers the file
  href    an HTML page with <a href="/<prefixes>uc?export=download&amp;confirm=TOKEN&amp;id=<id>">
          plus a cookie download_warning_<id>=TOKEN; GET .../uc?...&confirm=TOKEN&id=<id> answers
          the file when the cookie came back, the page again otherwise
  refuse  an HTML page without a confirmation (as when the quota is exceeded)
  direct  the file itself
"""

import argparse
import html
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX_RE = re.compile(r"^_(drop|stall|status|fail|gd|trickle|redirect|tohttp|tohttps)=([A-Za-z0-9]+)$"
                       r"|^_(norange|nolength|loop)$")
HREF_TOKEN = "Xk3_q9"


class State:
    def __init__(self, root, log, drive):
        self.root = os.path.abspath(root)
        self.log_path = log
        self.drive = drive
        self.lock = threading.Lock()
        self.counts = {}

    def bump(self, key):
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]

    def log(self, entry):
        if not self.log_path:
            return
        with self.lock:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "msinet-test-server"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()  # fails for a client that does not trust the certificate
        super().setup()

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def handle_request(self, head):
        state = self.server.state
        parsed = urllib.parse.urlsplit(self.path)
        parts = [p for p in parsed.path.split("/") if p]
        modes = {}
        prefix = []
        while parts and PREFIX_RE.match(parts[0]):
            m = PREFIX_RE.match(parts[0])
            if m.group(1):
                modes[m.group(1)] = m.group(2)
            else:
                modes[m.group(3)] = True
            prefix.append(parts.pop(0))
        rel = "/".join(urllib.parse.unquote(p) for p in parts)
        query = urllib.parse.parse_qs(parsed.query)
        self.log_fields = (parsed.path, parsed.query)
        self.route(state, modes, prefix, rel, query, head)

    def send_response(self, code, message=None):
        # Logged before the answer leaves, so a client that got it always finds it in the log.
        path, query = self.log_fields
        self.server.state.log({"method": self.command, "path": path, "query": query,
                               "range": self.headers.get("Range"), "status": code,
                               "cookie": self.headers.get("Cookie")})
        super().send_response(code, message)

    def redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route(self, state, modes, prefix, rel, query, head):
        key = "/".join(prefix + [rel])
        if "loop" in modes:
            return self.redirect(self.path)
        hops = [p for p in prefix if p.startswith(("_tohttp=", "_tohttps="))]
        if hops:  # the first one: the others are for the servers after it
            scheme, port = hops[0][3:].split("=")
            rest = [p for p in prefix if p != hops[0]] + [rel]
            return self.redirect("%s://127.0.0.1:%s/%s" % (scheme, port, "/".join(rest)))
        if "redirect" in modes and int(modes["redirect"]) > 0:
            n = int(modes["redirect"]) - 1
            rest = [("_redirect=%d" % n) if p.startswith("_redirect=") else p for p in prefix]
            if n == 0:
                rest = [p for p in prefix if not p.startswith("_redirect=")]
            return self.redirect("/" + "/".join(rest + [rel]))
        if "status" in modes:
            return self.send_text(int(modes["status"]), "status %s for %s\n" % (modes["status"], rel))
        if "fail" in modes and state.bump("fail:" + key) <= int(modes["fail"]):
            return self.send_text(500, "internal error (test fault)\n")
        base = "/" + "".join(p + "/" for p in prefix)
        drive_mode = modes.get("gd", state.drive)
        segs = rel.split("/")
        if rel == "download" and "id" in query:
            ok = query.get("confirm") == ["t"] and query.get("uuid") == [uuid_for(query["id"][0])]
            if not ok:
                return self.send_text(400, "bad confirmation\n")
            return self.send_file(state, modes, key, "drive.google.com/" + query["id"][0], head)
        if rel == "uc" and "id" in query:
            file_id = query["id"][0]
            cookie = self.headers.get("Cookie") or ""
            if query.get("confirm") == [HREF_TOKEN] and \
                    ("download_warning_%s=%s" % (file_id, HREF_TOKEN)) in cookie:
                return self.send_file(state, modes, key, "drive.google.com/" + file_id, head)
            return self.send_drive_page("href", base, file_id)
        if len(segs) == 2 and segs[0] == "drive.google.com" and drive_mode != "direct":
            if not os.path.isfile(os.path.join(state.root, rel)):
                return self.send_text(404, "no such file\n")
            return self.send_drive_page(drive_mode, base, segs[1])
        return self.send_file(state, modes, key, rel, head)

    def send_drive_page(self, mode, base, file_id):
        host = "%s://%s:%d" % ((self.server.scheme,) + self.server.server_address[:2])
        if mode == "form":
            body = (
                '<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head>'
                '<body><p>Google Drive can\'t scan this file for viruses.</p>'
                '<form id="download-form" action="%s%sdownload" method="get">'
                '<input type="submit" id="uc-download-link" value="Download anyway"/>'
                '<input type="hidden" name="id" value="%s">'
                '<input type="hidden" name="export" value="download">'
                '<input type="hidden" name="confirm" value="t">'
                '<input type="hidden" name="uuid" value="%s">'
                '</form></body></html>' % (host, base, html.escape(file_id), uuid_for(file_id)))
            return self.send_text(200, body, "text/html; charset=utf-8")
        if mode == "href":
            href = "%suc?export=download&amp;confirm=%s&amp;id=%s" % (base, HREF_TOKEN,
                                                                       html.escape(file_id))
            body = ('<html><body><div class="uc-warning-caption">Google Drive can\'t scan this '
                    'file for viruses.</div><a id="uc-download-link" class="goog-inline-block '
                    'jfk-button" href="%s">Download anyway</a></body></html>' % href)
            cookie = "download_warning_%s=%s; Path=/" % (file_id, HREF_TOKEN)
            return self.send_text(200, body, "text/html; charset=utf-8", [("Set-Cookie", cookie)])
        body = ('<html><head><title>Google Drive - Quota exceeded</title></head><body>'
                '<p>Too many users have viewed or downloaded this file recently.</p></body></html>')
        return self.send_text(200, body, "text/html; charset=utf-8")

    def send_text(self, code, text, ctype="text/plain; charset=utf-8", extra=()):
        data = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_file(self, state, modes, key, rel, head):
        path = os.path.normpath(os.path.join(state.root, rel))
        if not path.startswith(state.root + os.sep) or not os.path.isfile(path):
            return self.send_text(404, "no such file: %s\n" % rel)
        size = os.path.getsize(path)
        start, end, code = 0, size - 1, 200
        rng = self.headers.get("Range")
        if rng and "norange" not in modes:
            m = re.match(r"^bytes=(\d+)-(\d*)$", rng.strip())
            if m:
                start = int(m.group(1))
                if m.group(2):
                    end = min(int(m.group(2)), size - 1)
                if start >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                code = 206
        length = max(0, end - start + 1)
        drop = stall = None
        if "drop" in modes and state.bump("drop:" + key) == 1:
            drop = int(modes["drop"])
        if "trickle" in modes:
            drop = int(modes["trickle"])
        if "stall" in modes and state.bump("stall:" + key) == 1:
            stall = int(modes["stall"])
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        if "nolength" in modes:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            return
        limit = length
        if drop is not None:
            limit = min(limit, drop)
        if stall is not None:
            limit = min(limit, stall)
        with open(path, "rb") as f:
            f.seek(start)
            left = limit
            while left > 0:
                chunk = f.read(min(65536, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        self.wfile.flush()
        if stall is not None and limit < length:
            time.sleep(30)
            self.close_connection = True
            return
        if drop is not None and limit < length:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    scheme = "http"

    def handle_error(self, request, client_address):
        # Clients that hang up (the tests' aborts) are expected; anything else is reported.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError, ssl.SSLError)):
            super().handle_error(request, client_address)


def uuid_for(file_id):
    return "u-%08x" % (sum(ord(c) * 131 ** i for i, c in enumerate(file_id)) & 0xFFFFFFFF)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default="")
    ap.add_argument("--drive", choices=["form", "href", "refuse", "direct"], default="form")
    ap.add_argument("--watch-stdin", action="store_true")
    ap.add_argument("--tls-cert", default="")
    ap.add_argument("--tls-key", default="")
    args = ap.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args.root, args.log, args.drive)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        # The handshake runs in the request's thread, so a client that gives up cannot block
        # the others.
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        server.scheme = "https"
    if args.watch_stdin:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
