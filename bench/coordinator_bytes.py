#!/usr/bin/env python3
"""Bytes through the coordinator per HTTP API job, with and without the object store, in one run.

The coordinator runs alone in a network namespace (deploy/netns-hosts.sh), so every byte it sends or receives
crosses one veth, whose kernel counters are read before and after each batch: nothing inside the coordinator is
trusted to count. The worker, the client and moto (the S3 server) stay in the root namespace.

  upload        POST /v1/jobs (source_type upload) -> PUT the source to the API -> start -> poll: the source and the
                variants travel through the coordinator (client -> coordinator -> worker -> coordinator).
  s3_presigned  POST /v1/jobs (s3_presigned) -> PUT the source to the presigned URL (moto) -> start -> poll: the
                worker GETs the source from and PUTs the variants to moto itself (ASSIGN_OBJECT).

Needs root (ip netns), moto_server (deploy/install-deps.sh) and a release build.

  sudo bench/coordinator_bytes.py BIN_DIR CORPUS_DIR [JOBS]
"""
import concurrent.futures
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PIPELINE = [  # the canonical pipeline, as `pfctl bench` runs it
    {"id": "thumb", "action": "resize", "width": 150, "format": "webp", "quality": 80},
    {"id": "medium", "action": "resize", "width": 800, "format": "jpeg", "quality": 85},
    {"id": "large", "action": "resize", "width": 1600, "format": "webp", "quality": 75},
]
PREFIX, SUBNET = "pfbytes", "10.79.0"
COORDINATOR = f"{SUBNET}.1"
ROOT_SIDE = f"{SUBNET}.254"
VETH = f"{PREFIX}-v1"
TOKEN = "bytes-bench-token-0123456789"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def images(corpus):
    found = []
    for root, _, files in os.walk(corpus):
        for name in sorted(files):
            if name.lower().rsplit(".", 1)[-1] in ("jpg", "jpeg", "png", "webp", "heic"):
                found.append(os.path.join(root, name))
    return found


def counters():
    read = lambda name: int(open(f"/sys/class/net/{VETH}/statistics/{name}").read())
    return read("rx_bytes") + read("tx_bytes")


def wait_for(predicate, what, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


def listening(host, port):
    try:
        http.client.HTTPConnection(host, port, timeout=1).request("GET", "/")
        return True
    except OSError:
        return False


def run_job(path, source_type):
    api = http.client.HTTPConnection(COORDINATOR, 7402, timeout=120)

    def call(method, url, body=None, content_type=None):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if content_type:
            headers["Content-Type"] = content_type
        api.request(method, url, body=body, headers=headers)
        response = api.getresponse()
        return response.status, response.read()

    status, data = call("POST", "/v1/jobs", json.dumps({"source_type": source_type, "pipeline": PIPELINE}),
                        "application/json")
    assert status == 201, data
    created = json.loads(data)
    job = created["job_id"]
    with open(path, "rb") as handle:
        source = handle.read()
    if source_type == "upload":
        status, data = call("PUT", f"/v1/jobs/{job}/source", source, "application/octet-stream")
        assert status == 200, data
    else:
        # A content type of its own: urllib's default (a form) makes moto parse the image as form fields.
        request = urllib.request.Request(created["upload"]["url"], data=source, method="PUT",
                                         headers={"Content-Type": "application/octet-stream"})
        assert urllib.request.urlopen(request, timeout=60).status == 200
    status, data = call("POST", f"/v1/jobs/{job}/start")
    assert status == 202, data
    delay = 0.02
    while True:
        status, data = call("GET", f"/v1/jobs/{job}")
        answer = json.loads(data)
        if answer["status"] in ("succeeded", "failed", "cancelled"):
            variant_bytes = sum(v["bytes"] for v in answer.get("variants", []))
            return answer["status"], len(source), variant_bytes
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


def batch(paths, source_type, concurrency=4):
    before, start = counters(), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(lambda p: run_job(p, source_type), paths))
    after, elapsed = counters(), time.monotonic() - start
    ok = sum(1 for state, _, _ in results if state == "succeeded")
    return {
        "jobs": len(paths), "succeeded": ok, "coordinator_bytes": after - before, "images_per_second": len(paths) / elapsed,
        "source_bytes": sum(r[1] for r in results), "variant_bytes": sum(r[2] for r in results),
    }


def main():
    bin_dir, corpus = os.path.abspath(sys.argv[1]), sys.argv[2]
    paths = images(corpus)[: int(sys.argv[3]) if len(sys.argv) > 3 else None]
    tools = os.environ.get("PIXELFLOW_TOOLS", os.path.expanduser("~/.local/share/pixelflow/tools"))
    moto_server = shutil.which("moto_server") or f"{tools}/bin/moto_server"
    netns = os.path.join(REPO, "deploy/netns-hosts.sh")
    env = dict(os.environ, PREFIX=PREFIX, SUBNET=SUBNET)
    subprocess.run([netns, "up", "1"], env=env, check=True, stdout=subprocess.DEVNULL)
    processes = []
    work = tempfile.mkdtemp(prefix="pixelflow-bytes-")
    try:
        log = open(os.path.join(work, "processes.log"), "w")
        processes.append(subprocess.Popen([moto_server, "-H", ROOT_SIDE, "-p", "17990"], stdout=log, stderr=log))
        wait_for(lambda: listening(ROOT_SIDE, 17990), "moto")
        urllib.request.urlopen(urllib.request.Request(f"http://{ROOT_SIDE}:17990/pixelflow", method="PUT"))
        config = {
            "join": {"key_id": "worker", "secret": "bytes-bench-join-secret-0123"},
            "tenants": [{
                "key_id": "bench", "secret": "bytes-bench-tenant-secret-0123", "rate": 10000, "burst": 10000,
                "api_token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest(),
            }],
            "objects": {"s3": {
                "endpoint": f"http://{ROOT_SIDE}:17990", "bucket": "pixelflow", "access_key_id": "AKIABENCH",
                "secret_access_key_env": "BENCH_S3_SECRET",
            }},
        }
        config_path = os.path.join(work, "coordinator.json")
        with open(config_path, "w") as handle:
            json.dump(config, handle)
        processes.append(subprocess.Popen(
            ["ip", "netns", "exec", f"{PREFIX}-host1", f"{bin_dir}/pixelflow", "coordinator", "--config", config_path,
             "--listen", f"{COORDINATOR}:7400", "--http", f"{COORDINATOR}:7401", "--api", f"{COORDINATOR}:7402",
             "--data", os.path.join(work, "data")],
            env=dict(os.environ, BENCH_S3_SECRET="bench-secret"), stdout=log, stderr=log))
        wait_for(lambda: listening(COORDINATOR, 7402), "the coordinator's API")
        processes.append(subprocess.Popen(
            [f"{bin_dir}/pixelflow", "worker", "--coordinator", f"{COORDINATOR}:7400", "--config", config_path,
             "--slots", "2"], stdout=log, stderr=log))
        time.sleep(1)
        print(f"# {len(paths)} images of {corpus}, canonical pipeline, 4 at a time; bytes on the coordinator's veth")
        for source_type in ("upload", "s3_presigned", "upload", "s3_presigned"):
            result = batch(paths, source_type)
            per_job = result["coordinator_bytes"] / result["jobs"]
            payload = (result["source_bytes"] + result["variant_bytes"]) / result["jobs"]
            print(f"{source_type:13s} {result['succeeded']}/{result['jobs']} succeeded; per job: "
                  f"{per_job / 1024:9.1f} KiB through the coordinator "
                  f"(source + variants: {payload / 1024:8.1f} KiB; ratio {per_job / payload:.3f}); "
                  f"{result['images_per_second']:.2f} images/s")
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run([netns, "down"], env=env, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
