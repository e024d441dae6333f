"""Exit 0 when the PostgreSQL server named on the command line answers (used by make test)."""

import asyncio
import sys

import asyncpg


async def main(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn, timeout=3)
    await conn.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"PostgreSQL not ready: {exc}", file=sys.stderr)
        sys.exit(1)
