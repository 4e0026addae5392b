#!/usr/bin/env python3
"""Measures job pick-up latency of a RemoteTest cluster on a throw-away PostgreSQL (and optionally Redis).

    scripts/pickup-latency.py APP_DIR [--tasks N] [--redis] [--RemoteTest:Key=Value ...]

Starts PostgreSQL (scripts/pg.sh), one API and one worker process from APP_DIR (a `dotnet publish` output),
submits N tasks one after another (each waits for the previous to finish, so every pick-up is from an idle
worker), and prints the pick-up latency (date_started - date_submitted) percentiles and the tasks that
waited longer than 2 s. Extra --RemoteTest:... settings go to both nodes, e.g.
--RemoteTest:Storage:EnableLongPolling=true --RemoteTest:Storage:QueuePollInterval=00:00:15.
Everything runs on 127.0.0.1; the task is a DNS check against 127.0.0.1:9 (refused at once).
"""
import json, os, socket, subprocess, sys, tempfile, time, urllib.request
from datetime import datetime

scripts = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
if not args:
    sys.exit(__doc__)
app, rest = args[0], args[1:]
tasks, redis, extra = 50, False, []
i = 0
while i < len(rest):
    if rest[i] == "--tasks":
        tasks = int(rest[i + 1]); i += 2
    elif rest[i] == "--redis":
        redis = True; i += 1
    else:
        extra.append(rest[i]); i += 1

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]

def http(method, url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(), method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())

def when(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")

root = tempfile.mkdtemp(prefix="rt-pickup-")
nodes, servers = [], []
try:
    pg = run(f"{scripts}/pg.sh", "start", f"{root}/pg", str(free_port())); servers.append(("pg.sh", f"{root}/pg"))
    common = ["--RemoteTest:Storage:Kind=postgres", f"--RemoteTest:Storage:ConnectionString={pg}"] + extra
    if redis:
        r = run(f"{scripts}/redis.sh", "start", f"{root}/redis", str(free_port())); servers.append(("redis.sh", f"{root}/redis"))
        common.append(f"--RemoteTest:Storage:Redis={r}")
    api = f"http://127.0.0.1:{free_port()}"
    log = open(f"{root}/nodes.log", "w")
    nodes.append(subprocess.Popen(["dotnet", f"{app}/RemoteTest.dll", "--RemoteTest:Roles=api", f"--urls={api}"] + common, stdout=log, stderr=log))
    nodes.append(subprocess.Popen(["dotnet", f"{app}/RemoteTest.dll", "--RemoteTest:Roles=worker"] + common, stdout=log, stderr=log))
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if http("GET", f"{api}/workers")["count"] == 1:
                break
        except Exception:
            pass
        time.sleep(0.2)
    payload = {"task_name": "dns.check_records",
               "data": {"args": [{"a.test": {"x": ["192.0.2.1"]}}], "kwargs": {"timeout": 1, "nameservers": ["127.0.0.1:9"]}}}
    latencies, slow = [], []
    for n in range(tasks):
        time.sleep(0.3)   # let the worker go idle between tasks
        tid = http("POST", f"{api}/task", payload)["task_id"]
        end = time.time() + 60
        while time.time() < end:
            s = http("GET", f"{api}/task/{tid}")
            if s["ready"]:
                break
            time.sleep(0.02)
        ms = (when(s["date_started"]) - when(s["date_submitted"])).total_seconds() * 1000 if s.get("date_started") else float("inf")
        latencies.append(ms)
        if ms > 2000:
            slow.append((n, round(ms)))
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"settings: {' '.join(extra) or '(defaults)'}{' +redis' if redis else ''}")
    print(f"{tasks} tasks, pick-up ms: p50 {pick(0.5):.0f}, p90 {pick(0.9):.0f}, max {latencies[-1]:.0f}; over 2 s: {slow}")
finally:
    for p in nodes:
        p.terminate()
    for p in nodes:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
    for script, d in servers:
        subprocess.run([f"{scripts}/{script}", "stop", d])
