"""Calls to the reference shop's admin API that drills depend on: faults,
restore after a disaster, and the list of confirmed orders (for RPO)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

__all__ = ["clear_fault_rollback", "confirmed_order_ids", "inject_fault", "restore_rollback"]


def inject_fault(
    client: httpx.Client, kind: str, endpoint: str, value: float, duration_s: float
) -> tuple[str | None, str]:
    """``POST /admin/faults``; returns ``(fault_id or None, detail)``."""
    body = {"kind": kind, "endpoint": endpoint, "value": value, "duration_s": duration_s}
    response = client.post("/admin/faults", json=body)
    detail = f"POST /admin/faults {kind} on {endpoint} -> HTTP {response.status_code}"
    if response.status_code not in (200, 201):
        return None, detail + f": {response.text[:200]}"
    fault_id = str(response.json()["fault_id"])
    return fault_id, detail + f" (fault {fault_id}, expires in {duration_s:g} s)"


def _active_faults(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/admin/faults")
    response.raise_for_status()
    payload = response.json()
    faults = payload.get("faults", payload) if isinstance(payload, dict) else payload
    return [f for f in faults if isinstance(f, dict)]


def clear_fault_rollback(
    client: httpx.Client, holder: dict[str, str], kind: str, endpoint: str
) -> Callable[[], str]:
    """The undo of a fault injection.  If the drill was interrupted before the
    shop's answer arrived (no id yet), delete the active faults of this kind
    and endpoint instead."""

    def run() -> str:
        ids = (
            [holder["fault_id"]]
            if "fault_id" in holder
            else [
                str(f["fault_id"])
                for f in _active_faults(client)
                if f.get("kind") == kind and f.get("endpoint") == endpoint
            ]
        )
        if not ids:
            return "no such fault active: nothing to undo"
        done = []
        for fault_id in ids:
            response = client.delete(f"/admin/faults/{fault_id}")
            # 404: the fault already expired or was cleared: the goal is reached
            if response.status_code not in (200, 204, 404):
                raise RuntimeError(
                    f"DELETE /admin/faults/{fault_id} -> HTTP {response.status_code}"
                )
            done.append(f"DELETE /admin/faults/{fault_id} -> HTTP {response.status_code}")
        return "; ".join(done)

    return run


def restore_rollback(client: httpx.Client) -> Callable[[], str]:
    """Restore the latest backup only if the database is still lost: restoring
    over a database that mitigation already restored would drop newer orders."""

    def run() -> str:
        health = client.get("/healthz")
        if health.status_code == 200:
            return "database is healthy: nothing to restore"
        response = client.post("/admin/restore", json={})
        if response.status_code not in (200, 201):
            raise RuntimeError(f"POST /admin/restore -> HTTP {response.status_code}")
        return f"POST /admin/restore -> {response.json()}"

    return run


def confirmed_order_ids(
    client: httpx.Client, page_size: int = 10_000, max_pages: int = 1_000
) -> set[str]:
    """Every confirmed order id the shop has: ``GET /admin/orders?since_id=&limit=``,
    page after page (``last_id`` of one page is ``since_id`` of the next)."""
    found: set[str] = set()
    since = "0"
    for _ in range(max_pages):
        response = client.get("/admin/orders", params={"since_id": since, "limit": page_size})
        response.raise_for_status()
        payload = response.json()
        ids = [str(order_id) for order_id in payload["order_ids"]]
        found.update(ids)
        if len(ids) < page_size or payload.get("last_id") is None:
            break
        since = str(payload["last_id"])
    return found
