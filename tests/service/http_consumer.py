"""A billing system in its own process, over HTTP only: ``python -m tests.service.http_consumer BASE TOKEN
CONSUMER LIMIT`` reads and acknowledges the feed until it is drained, then prints one JSON object: the
cursors it acknowledged and the billing events it claimed (and billed)."""

from __future__ import annotations

import json
import sys

import httpx


def main(base: str, token: str, consumer: str, limit: int) -> None:
    claimed: list[str] = []
    acked: list[int] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        while True:
            page = api.get(f"/api/v1/feed/{consumer}", params={"limit": limit})
            page.raise_for_status()
            entries = page.json()["entries"]
            if not entries:
                break
            through = entries[-1]["cursor"]
            answer = api.post(f"/api/v1/feed/{consumer}/ack", json={"through": through})
            answer.raise_for_status()
            result = answer.json()
            acked.append(result["acked_through"])
            for event in result["claimed"]:
                billed = api.post(f"/api/v1/events/{event}/bill")
                billed.raise_for_status()
                claimed.append(event)
    print(json.dumps({"consumer": consumer, "acked": acked, "claimed": claimed}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
