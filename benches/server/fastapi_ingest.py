"""A minimal FastAPI + async SQLAlchemy (aiosqlite) equivalent of the reference
server's `/v1/batch`, the hosted platform's stack, for a side-by-side load test:
the write key as the Basic user (looked up by its SHA-256), every message of the
batch checked for a type, a messageId and an identity, appended in one
transaction (duplicates by tenant and messageId ignored), committed with SQLite in
WAL mode and synchronous=FULL before the 200.

    STRATUM_FASTAPI_DB=/tmp/x.db STRATUM_WRITE_KEY=wk_... uvicorn fastapi_ingest:app
"""

import base64
import hashlib
import json
import os
from datetime import datetime, timezone

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine

DB = os.environ.get("STRATUM_FASTAPI_DB", "fastapi.db")
engine = create_async_engine(f"sqlite+aiosqlite:///{DB}")


@event.listens_for(engine.sync_engine, "connect")
def _pragmas(conn, _record):
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


app = FastAPI()


@app.on_event("startup")
async def startup():
    key = os.environ["STRATUM_WRITE_KEY"]
    async with engine.begin() as conn:
        await conn.execute(text(
            "CREATE TABLE IF NOT EXISTS keys (key_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)"))
        await conn.execute(text(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, "
            "message_id TEXT NOT NULL, kind TEXT NOT NULL, received_at TEXT NOT NULL, body TEXT NOT NULL, "
            "UNIQUE (tenant_id, message_id))"))
        await conn.execute(
            text("INSERT OR IGNORE INTO keys (key_hash, tenant_id) VALUES (:h, 'demo')"),
            {"h": hashlib.sha256(key.encode()).hexdigest()})


def error(status, code, message):
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@app.post("/v1/batch")
async def batch(request: Request):
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("basic "):
        return error(401, "unauthorized", "a write key is required")
    key = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
    raw = await request.body()
    if len(raw) > 4 * 1024 * 1024:
        return error(400, "too_large", "the batch is over 4 MiB")
    try:
        doc = json.loads(raw)
    except ValueError:
        return error(400, "invalid_json", "the body is not JSON")
    received = datetime.now(timezone.utc).isoformat()
    rows, rejected = [], []
    for i, m in enumerate(doc.get("batch", [])):
        if not isinstance(m, dict) or m.get("type") not in (
                "identify", "track", "page", "screen", "group", "alias") or not m.get("messageId") or not (
                m.get("userId") or m.get("anonymousId")):
            rejected.append(i)
            continue
        rows.append({"m": m["messageId"], "k": m["type"], "r": received, "b": json.dumps(m)})
    async with engine.begin() as conn:
        tenant = (await conn.execute(
            text("SELECT tenant_id FROM keys WHERE key_hash = :h"),
            {"h": hashlib.sha256(key.encode()).hexdigest()})).scalar()
        if tenant is None:
            return error(401, "unauthorized", "unknown write key")
        if rows:
            await conn.execute(text(
                "INSERT INTO events (tenant_id, message_id, kind, received_at, body) "
                "VALUES ('demo', :m, :k, :r, :b) ON CONFLICT (tenant_id, message_id) DO NOTHING"), rows)
    return {"success": True, "accepted": len(rows), "rejected": rejected}
