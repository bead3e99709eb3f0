#!/usr/bin/env python3
"""Print N realistic Clawdstrike security events as JSON Lines.

Used by the demo, the end-to-end tests and the benchmarks.  Each event is
about 800 bytes, shaped like the seed's SecurityEvent, with a fresh
event_id.  --severity forces one severity; --bad K makes every K-th line
invalid in a rotating way (missing field, bad type, not JSON) so loaders'
error reporting can be tested.

usage: gen-events.py N [--severity S] [--bad K] [--seed X]
"""
import argparse
import json
import random
import uuid
from datetime import datetime, timedelta, timezone

GUARDS = [
    ("egress", "network", "egress_blocked", "TA0010", "T1567"),
    ("secrets", "file", "secret_access", "TA0006", "T1552"),
    ("command", "process", "risky_command", "TA0002", "T1059"),
    ("filesystem", "file", "path_denied", "TA0005", "T1222"),
    ("prompt_injection", "prompt", "injection_detected", "AML.TA0005", "AML.T0051"),
]
SEVERITIES = ["info"] * 50 + ["low"] * 20 + ["medium"] * 15 + ["high"] * 10 + ["critical"] * 5


def event(rng, now, i, severity=None):
    guard, rtype, etype, tactic, technique = rng.choice(GUARDS)
    sev = severity or rng.choice(SEVERITIES)
    allowed = sev in ("info", "low") and rng.random() < 0.5
    ts = now - timedelta(milliseconds=rng.randint(0, 60000))
    host = rng.choice(["paste.example.com", "api.github.com", "exfil.example.net", "pypi.org"])
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "timestamp": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "event_type": etype,
        "event_category": rtype,
        "outcome": "success" if allowed else "failure",
        "action": "allow" if allowed else "block",
        "agent": {"id": f"agent-{rng.randint(1, 40)}", "name": rng.choice(["claude-code", "codex", "cursor"]),
                  "version": "1.4.2"},
        "session": {"id": f"sess-{rng.randint(1, 500):04d}", "user_id": rng.choice(["alice", "bob", "carol", "dave"]),
                    "tenant_id": rng.choice(["acme", "globex", "initech"]),
                    "environment": rng.choice(["prod", "staging", "dev"])},
        "decision": {"allowed": allowed, "guard": guard, "severity": sev,
                     "reason": f"{guard} policy: {'allowed by rule' if allowed else 'blocked by rule'} {rng.randint(1, 99)}"},
        "resource": {"type": rtype, "name": f"{rtype}-{i % 97}", "path": f"/workspace/project/src/file_{i % 211}.py",
                     "host": host, "port": rng.choice([443, 80, 22, 8443])},
        "threat": {"tactic": tactic, "technique": technique, "confidence": round(rng.random(), 2)},
        "metadata": {"policy": "default", "policy_version": "2026.11", "rule_id": f"rule-{rng.randint(1, 300)}",
                     "engine": "clawdstrike", "sequence": i},
    }


def corrupt(line_no, ev):
    kind = line_no % 4
    if kind == 0:
        del ev["event_id"]
    elif kind == 1:
        ev["decision"]["severity"] = "urgent"
    elif kind == 2:
        ev["timestamp"] = "yesterday"
    else:
        return "{not json"
    return json.dumps(ev, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--severity")
    ap.add_argument("--bad", type=int, default=0)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    now = datetime.now(timezone.utc)
    out = []
    for i in range(1, a.n + 1):
        ev = event(rng, now, i, a.severity)
        if a.bad and i % a.bad == 0:
            out.append(corrupt(i // a.bad, ev))
        else:
            out.append(json.dumps(ev, separators=(",", ":")))
        if len(out) >= 10000:
            print("\n".join(out))
            out = []
    if out:
        print("\n".join(out))


if __name__ == "__main__":
    main()
