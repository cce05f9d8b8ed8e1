#!/usr/bin/env python3
"""A loopback HTTP server for the tests of `source_type: url`: serves one image and the ways a source URL can go
wrong. Writes its port to --port-file.

  /photo.jpg          the --file, with its Content-Length
  /redirect/N         302 to /redirect/N-1; /redirect/0 is 302 to /photo.jpg
  /to?url=URL         302 to URL (anywhere: the coordinator must check it)
  /big                claims 1 GiB and sends a little (Content-Length over any limit)
  /chunked-big        2 MiB without a Content-Length
  /missing            404
"""
import argparse
import http.server
import urllib.parse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--file", required=True)
    args = parser.parse_args()
    with open(args.file, "rb") as handle:
        photo = handle.read()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def send(self, status, body=b"", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if not any(name == "Content-Length" for name, _ in headers):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path == "/photo.jpg":
                self.send(200, photo, [("Content-Type", "image/jpeg")])
            elif url.path.startswith("/redirect/"):
                hops = int(url.path.rsplit("/", 1)[1])
                self.send(302, headers=[("Location", f"/redirect/{hops - 1}" if hops > 0 else "/photo.jpg")])
            elif url.path == "/to":
                self.send(302, headers=[("Location", urllib.parse.parse_qs(url.query)["url"][0])])
            elif url.path == "/big":
                self.send(200, b"x" * 1024, [("Content-Length", str(1 << 30))])
            elif url.path == "/chunked-big":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(32):
                    chunk = b"y" * 65536
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send(404, b"not here")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file, "w") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
