# SPDX-License-Identifier: ISC
# Reads the cached feed "news" as a web application does: never waits for
# the origin; a copy older than 5 minutes is refreshed in the background.
import json
import subprocess
import sys
import time


def feedcache(*args):
    r = subprocess.run(["feedcache", *args], stdout=subprocess.PIPE)
    return r.stdout if r.returncode == 0 else None


body = feedcache("get", "news", "--max-age", "5m")
meta = feedcache("get", "news", "--meta")
if body is None or meta is None:
    print("news is not available yet")
    sys.exit(1)
sys.stdout.buffer.write(body)
checked = json.loads(meta)["checked"]
print("as of", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(checked)))
