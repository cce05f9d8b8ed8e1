#!/usr/bin/env python3
"""How many connections one coordinator holds, and what each costs it in memory.

Starts a coordinator (and one real --null-engine worker), reads its RSS, then opens W worker connections and C
client connections written from proto/PROTOCOL.md alone (preface, HELLO, AUTH with its HMAC proof, AUTH_OK; the
workers REGISTER with no formats, so no task is ever given to them, and send HEARTBEAT every second; the clients
PING every 20 s), and reads the RSS again. With every connection held, `pfctl bench` runs jobs through the real
worker (the "some active" part), and the coordinator's own /metrics must count W + 1 workers. Prints one JSON object.

  bench/connections.py BIN_DIR [WORKERS] [CLIENTS]      defaults: 1000 10000 (build first: swift build -c release)

The coordinator's limit on open connections (limits.max_connections) and the file descriptors of both processes
must allow WORKERS + CLIENTS + a few.
"""
import asyncio
import hashlib
import hmac
import json
import os
import resource
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

KEY_ID, SECRET = "bench", b"bench-secret-0123456789"
JOIN_KEY, JOIN_SECRET = "worker", b"bench-join-secret-0123456789"
HELLO, AUTH, AUTH_OK, PING, PONG, GOAWAY, REGISTER, REGISTERED, HEARTBEAT = (
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x30, 0x31, 0x35)


def frame(kind: int, payload: bytes, stream: int = 0) -> bytes:
    return struct.pack(">IBBHI", len(payload), kind, 0, 0, stream) + payload


def wire_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    length, kind, _flags, _reserved, _stream = struct.unpack(">IBBHI", await reader.readexactly(12))
    return kind, await reader.readexactly(length)


async def handshake(host: str, port: int, role: int, key_id: str, secret: bytes):
    """§2 and §3: preface exchange, HELLO, AUTH with the proof, AUTH_OK with the server's proof checked."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"PXFL\x01\x02\x00\x00")
    preface = await reader.readexactly(8)
    if preface[:4] != b"PXFL" or preface[4] != preface[5] or preface[4] == 0:
        raise RuntimeError(f"refused preface {preface.hex()}")
    kind, hello = await read_frame(reader)
    if kind != HELLO:
        raise RuntimeError(f"expected HELLO, got 0x{kind:02x}")
    server_nonce, client_nonce = hello[:32], secrets.token_bytes(32)
    key = key_id.encode()
    proof = hmac.new(secret, b"PXFL-v1-auth" + bytes([role]) + struct.pack(">H", len(key)) + key + server_nonce
                     + client_nonce, hashlib.sha256).digest()
    writer.write(frame(AUTH, bytes([role]) + wire_string(key_id) + client_nonce + proof))
    kind, answer = await read_frame(reader)
    if kind != AUTH_OK:
        raise RuntimeError(f"expected AUTH_OK, got 0x{kind:02x}: {answer[2:]!r}")
    expected = hmac.new(secret, b"PXFL-v1-server" + server_nonce + client_nonce, hashlib.sha256).digest()
    if not hmac.compare_digest(answer[:32], expected):
        raise RuntimeError("the coordinator's server_proof is wrong")
    return reader, writer, preface[4]


async def answer_pings(reader, writer, stop: asyncio.Event):
    """Reads everything the coordinator sends; answers PING (§6.1); a GOAWAY ends the connection."""
    while not stop.is_set():
        kind, payload = await read_frame(reader)
        if kind == PING:
            writer.write(frame(PONG, payload))
        elif kind == GOAWAY:
            raise RuntimeError(f"GOAWAY {payload!r}")


async def fake_worker(index: int, host: str, port: int, ready: asyncio.Queue, stop: asyncio.Event):
    reader, writer, _ = await handshake(host, port, 2, JOIN_KEY, JOIN_SECRET)
    # slots 1, no formats: a job always needs a format, so none is ever assigned here (§6.1 REGISTER).
    writer.write(frame(REGISTER, wire_string(f"idle-{index}") + struct.pack(">HI", 1, 0) + wire_string("bench")))
    kind, _ = await read_frame(reader)
    if kind != REGISTERED:
        raise RuntimeError(f"expected REGISTERED, got 0x{kind:02x}")
    await ready.put(index)
    pings = asyncio.create_task(answer_pings(reader, writer, stop))
    while not stop.is_set():
        writer.write(frame(HEARTBEAT, struct.pack(">HH", 0, 0)))  # no free slot, no task held
        await asyncio.sleep(1)
    pings.cancel()
    writer.close()


async def idle_client(index: int, host: str, port: int, ready: asyncio.Queue, stop: asyncio.Event):
    reader, writer, _ = await handshake(host, port, 1, KEY_ID, SECRET)
    await ready.put(index)
    pings = asyncio.create_task(answer_pings(reader, writer, stop))
    while not stop.is_set():
        writer.write(frame(PING, struct.pack(">Q", index)))  # keepalive (idle_timeout_ms, §6.1)
        await asyncio.sleep(20)
    pings.cancel()
    writer.close()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def metric(http_port: int, name: str) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10).read().decode()
    return next(float(line.split()[-1]) for line in text.splitlines() if line.split(" ")[0] == name)


async def open_all(kind, count: int, host: str, port: int, stop: asyncio.Event, tasks: list, batch: int = 200):
    """Opens `count` connections, `batch` handshakes at a time; returns when every one is established."""
    ready: asyncio.Queue = asyncio.Queue()
    for start in range(0, count, batch):
        for index in range(start, min(count, start + batch)):
            tasks.append(asyncio.create_task(kind(index, host, port, ready, stop)))
        while ready.qsize() < min(count, start + batch):
            failed = [task for task in tasks if task.done() and task.exception()]
            if failed:
                raise failed[0].exception()
            await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def measure(bin_dir: str, workers: int, clients: int) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="pf-connections.")
    config = os.path.join(work, "config.json")
    with open(config, "w") as file:
        json.dump({"join": {"secret": JOIN_SECRET.decode()},
                   "tenants": [{"key_id": KEY_ID, "secret": SECRET.decode(), "rate": 1000000, "burst": 1000000,
                                "max_queued": 1000000}],
                   "limits": {"max_connections": workers + clients + 64}}, file)
    port, http_port = free_port(), free_port()
    coordinator = subprocess.Popen(
        [f"{bin_dir}/pixelflow", "coordinator", "--config", config, "--listen", f"127.0.0.1:{port}", "--http",
         f"127.0.0.1:{http_port}", "--data", os.path.join(work, "data")],
        stdout=open(os.path.join(work, "coordinator.log"), "w"), stderr=subprocess.STDOUT)
    worker = None
    stop, tasks = asyncio.Event(), []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                metric(http_port, "pixelflow_workers")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        worker = subprocess.Popen(
            [f"{bin_dir}/pixelflow", "worker", "--coordinator", f"127.0.0.1:{port}", "--config", config,
             "--null-engine", "--slots", "8", "--name", "real"],
            stdout=open(os.path.join(work, "worker.log"), "w"), stderr=subprocess.STDOUT)
        while metric(http_port, "pixelflow_workers") < 1:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
        baseline = rss_kib(coordinator.pid)

        started = time.monotonic()
        await open_all(fake_worker, workers, "127.0.0.1", port, stop, tasks)
        workers_seconds = time.monotonic() - started
        await asyncio.sleep(2)
        with_workers = rss_kib(coordinator.pid)

        started = time.monotonic()
        await open_all(idle_client, clients, "127.0.0.1", port, stop, tasks)
        clients_seconds = time.monotonic() - started
        await asyncio.sleep(2)
        with_all = rss_kib(coordinator.pid)
        registered = metric(http_port, "pixelflow_workers")

        # Some active: real jobs through the real worker while every idle connection stays open.
        source = os.path.join(work, "source.bin")
        with open(source, "wb") as file:
            file.write(os.urandom(2048))
        environment = dict(os.environ, PIXELFLOW_COORDINATOR=f"127.0.0.1:{port}", PIXELFLOW_KEY_ID=KEY_ID,
                           PIXELFLOW_SECRET=SECRET.decode())
        bench = await asyncio.create_subprocess_exec(
            f"{bin_dir}/pfctl", "bench", "--json", "--jobs", "20000", "--concurrency", "256", "--variant",
            "t:resize:64:webp", source, env=environment, stdout=asyncio.subprocess.PIPE)
        output, _ = await asyncio.wait_for(bench.communicate(), timeout=300)
        report = json.loads(output)
        failed = [task for task in tasks if task.done() and task.exception()]
        after_jobs = rss_kib(coordinator.pid)
        return {
            "workers": workers, "clients": clients, "registered_workers": registered,
            "connections_lost": len(failed),
            "rss_kib": {"baseline": baseline, "with_workers": with_workers, "with_all": with_all,
                        "after_jobs": after_jobs},
            "kib_per_worker_connection": round((with_workers - baseline) / max(1, workers), 1),
            "kib_per_client_connection": round((with_all - with_workers) / max(1, clients), 1),
            "seconds_to_open": {"workers": round(workers_seconds, 2), "clients": round(clients_seconds, 2)},
            "jobs_alongside": {"jobs": report["jobs"], "failed": report["failed"],
                               "jobs_per_second": report["images_per_second"]},
        }
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        for process in (worker, coordinator):
            if process:
                process.terminate()
                process.wait(timeout=30)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bin_dir = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    print(json.dumps(asyncio.run(measure(bin_dir, workers, clients)), indent=2))


if __name__ == "__main__":
    main()
