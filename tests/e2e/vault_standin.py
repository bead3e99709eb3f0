#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for HashiCorp Vault's KV v2 read API, for the e2e tests.

    vault_standin.py --port-file F --vault-token-file VT --secret-file S
                     [--path secret/data/clawdstrike/splunk] [--key hec_token]
                     [--port N]

GET /v1/<path> with header X-Vault-Token equal to the content of VT answers
like Vault's KV v2 engine:

    {"request_id":..,"data":{"data":{"<key>":"<content of S>"},
     "metadata":{"version":N,...}},...}

S is re-read on every request (the test rotates the secret by rewriting
it); N counts the distinct values seen.  A wrong or missing Vault token
answers 403 {"errors":["permission denied"]}, another path 404
{"errors":[]}, as Vault does.  Requests are logged to stderr without any
token or secret.
"""
import argparse
import datetime
import json
import os
import sys
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


class Handler(BaseHTTPRequestHandler):
    server_version = "vault-standin"
    seen = []

    def log_message(self, fmt, *args):  # no tokens: path and status only
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print(f"vault-standin: {self.command} {self.path} -> {status}",
              file=sys.stderr, flush=True)

    def do_GET(self):
        opts = self.server.opts
        if self.headers.get("X-Vault-Token", "") != read(opts.vault_token_file):
            return self.answer(403, {"errors": ["permission denied"]})
        if self.path != "/v1/" + opts.path:
            return self.answer(404, {"errors": []})
        secret = read(opts.secret_file)
        if secret not in Handler.seen:
            Handler.seen.append(secret)
        now = datetime.datetime.now(datetime.timezone.utc).isoformat()
        return self.answer(200, {
            "request_id": str(uuid.uuid4()),
            "lease_id": "",
            "renewable": False,
            "lease_duration": 0,
            "data": {
                "data": {opts.key: secret},
                "metadata": {
                    "created_time": now,
                    "custom_metadata": None,
                    "deletion_time": "",
                    "destroyed": False,
                    "version": Handler.seen.index(secret) + 1,
                },
            },
            "wrap_info": None,
            "warnings": None,
            "auth": None,
        })


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--vault-token-file", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--path", default="secret/data/clawdstrike/splunk")
    p.add_argument("--key", default="hec_token")
    p.add_argument("--port", type=int, default=0)
    opts = p.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    srv.opts = opts
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, opts.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
