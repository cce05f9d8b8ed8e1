#!/usr/bin/env python3
"""The HTTP API against the binary protocol on the same corpus, in one run, through one `pixelflow dev`.

For each image: POST /v1/jobs (upload) -> PUT source -> POST start -> poll GET until it ended, CONCURRENCY at a
time; images/s over the whole corpus. The binary path is `pfctl bench --concurrency N DIR` (stream mode, the same
canonical pipeline), measured before and after each HTTP run. Prints both and the ratio of the medians.

  bench/http_api_bench.py BIN_DIR CORPUS_DIR [CONCURRENCY] [RUNS]
"""
import concurrent.futures
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# The canonical pipeline (PixelFlowPipeline's Pipeline.canonical), which `pfctl bench` runs by default.
PIPELINE = [
    {"id": "thumb", "action": "resize", "width": 150, "format": "webp", "quality": 80},
    {"id": "medium", "action": "resize", "width": 800, "format": "jpeg", "quality": 85},
    {"id": "large", "action": "resize", "width": 1600, "format": "webp", "quality": 75},
]


def images(corpus):
    found = []
    for root, _, files in os.walk(corpus):
        for name in sorted(files):
            if name.lower().rsplit(".", 1)[-1] in ("jpg", "jpeg", "png", "webp", "heic"):
                found.append(os.path.join(root, name))
    return found


def run_job(host, port, token, path):
    connection = http.client.HTTPConnection(host, port, timeout=120)
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, url, body=None, extra=None):
        connection.request(method, url, body=body, headers={**headers, **(extra or {})})
        response = connection.getresponse()
        data = response.read()
        return response.status, data

    status, data = call("POST", "/v1/jobs", json.dumps({"source_type": "upload", "pipeline": PIPELINE}),
                        {"Content-Type": "application/json"})
    assert status == 201, data
    job = json.loads(data)["job_id"]
    with open(path, "rb") as handle:
        status, data = call("PUT", f"/v1/jobs/{job}/source", handle.read())
    assert status == 200, data
    status, data = call("POST", f"/v1/jobs/{job}/start")
    assert status == 202, data
    delay = 0.01
    while True:
        status, data = call("GET", f"/v1/jobs/{job}")
        state = json.loads(data)["status"]
        if state in ("succeeded", "failed", "cancelled"):
            return state
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


def http_run(address, token, paths, concurrency):
    host, port = address.rsplit(":", 1)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        states = list(pool.map(lambda p: run_job(host, int(port), token, p), paths))
    elapsed = time.monotonic() - start
    return len(paths) / elapsed, states.count("succeeded")


def binary_run(bin_dir, env, corpus, count, concurrency):
    out = subprocess.run([f"{bin_dir}/pfctl", "bench", "--jobs", str(count), "--concurrency", str(concurrency), corpus],
                         env=env, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([0-9.]+) images/s", out).group(1))


def main():
    bin_dir, corpus = sys.argv[1], sys.argv[2]
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    paths = images(corpus)
    token = "bench-api-token-0123456789"
    env = dict(os.environ, PIXELFLOW_SECRET="bench-secret-0123456789", PIXELFLOW_API_TOKEN=token)
    with tempfile.TemporaryDirectory() as work:
        log = open(os.path.join(work, "dev.log"), "w+")
        dev = subprocess.Popen([f"{bin_dir}/pixelflow", "dev", "--port", "17600", "--workers", "1", "--slots", "2"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                log.seek(0)
                text = log.read()
                if "PIXELFLOW_API_TOKEN" in text:
                    break
                time.sleep(0.1)
            env.update(PIXELFLOW_COORDINATOR="127.0.0.1:17600", PIXELFLOW_KEY_ID="dev")
            print(f"# {len(paths)} images, {concurrency} at a time, {runs} runs (binary, HTTP, binary, ...)")
            binary, api = [], []
            for run in range(runs):
                binary.append(binary_run(bin_dir, env, corpus, len(paths), concurrency))
                rate, ok = http_run("127.0.0.1:17602", token, paths, concurrency)
                api.append(rate)
                print(f"run {run + 1}: binary {binary[-1]:.2f} images/s, HTTP {rate:.2f} images/s ({ok} succeeded)")
            binary.append(binary_run(bin_dir, env, corpus, len(paths), concurrency))
            print(f"binary (last) {binary[-1]:.2f} images/s")
            median = lambda xs: sorted(xs)[len(xs) // 2]
            print(f"median: binary {median(binary):.2f}, HTTP {median(api):.2f} images/s, "
                  f"HTTP/binary {median(api) / median(binary):.2f}")
        finally:
            dev.terminate()
            dev.wait()


if __name__ == "__main__":
    main()
