#!/usr/bin/env python3
"""A webhook receiver for the tests: logs every delivery as a JSON line (time, event id, whether the signature
verifies with docs/webhook_verify.py, the status answered, the body) and answers 500 to the first --fail-first
deliveries of each event, 200 after. Binds 127.0.0.1 on a free port and writes the port to --port-file."""
import argparse, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs"))
from webhook_verify import verify  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--port-file", required=True)
parser.add_argument("--log", required=True)
parser.add_argument("--secret", required=True)
parser.add_argument("--fail-first", type=int, default=0)
args = parser.parse_args()
lock = threading.Lock()
seen = {}

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        event = self.headers.get("PixelFlow-Event-Id", "")
        with lock:
            seen[event] = seen.get(event, 0) + 1
            status = 500 if seen[event] <= args.fail_first else 200
            entry = {"t": time.time(), "event_id": event, "status": status, "body": body.decode(),
                     "signature_ok": verify(args.secret.encode(), self.headers.get("PixelFlow-Signature", ""), body)}
            with open(args.log, "a") as log:
                log.write(json.dumps(entry) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(args.port_file + ".tmp", args.port_file)
server.serve_forever()
