"""Small values, claims, rate limits, paces, locks and registered work on Redis."""

from __future__ import annotations

import secrets

from bot.store import redis_scripts
from bot.store.redis_base import RedisBase, milliseconds, text


class RedisValues(RedisBase):
    async def claim_once(self, key: str, ttl_seconds: float) -> bool:
        ttl_ms = milliseconds(ttl_seconds)
        with self._guard("claim_once"):
            return bool(await self._redis.set(self._keys.claim(key), "1", nx=True, px=ttl_ms))

    async def release_claim(self, key: str) -> None:
        with self._guard("release_claim"):
            await self._redis.delete(self._keys.claim(key))

    async def get_value(self, key: str) -> str | None:
        with self._guard("get_value"):
            return text(await self._redis.get(self._keys.value(key)))

    async def set_value(
        self, key: str, value: str, ttl_seconds: float | None, *, durable: bool = False
    ) -> None:
        ttl_ms = None if ttl_seconds is None else milliseconds(ttl_seconds)
        with self._guard("set_value"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.set(self._keys.value(key), value, px=ttl_ms)
                if durable:
                    await self._confirm(pipe, "set_value")
                else:
                    await pipe.execute()

    async def take_rate_slot(self, name: str, runs: int, per_seconds: float) -> float:
        args: list[str | int] = [runs, milliseconds(per_seconds), secrets.token_hex(8)]
        with self._guard("take_rate_slot"):
            wait_ms = await self._script(redis_scripts.TAKE_RATE_SLOT)(
                keys=[self._keys.rate(name)], args=args
            )
        return float(str(text(wait_ms))) / 1000

    async def touch_member(self, name: str, member: str, keep_seconds: float, most: int) -> None:
        args: list[str | int] = [member, milliseconds(keep_seconds), most]
        with self._guard("touch_member"):
            await self._script(redis_scripts.TOUCH_MEMBER)(
                keys=[self._keys.members(name)], args=args
            )

    async def recent_members(self, name: str, keep_seconds: float) -> list[str]:
        with self._guard("recent_members"):
            found = await self._script(redis_scripts.RECENT_MEMBERS)(
                keys=[self._keys.members(name)], args=[milliseconds(keep_seconds)]
            )
        return [str(text(member)) for member in found]

    async def reserve_pace(self, name: str, interval_seconds: float, burst: int) -> float:
        args: list[str | int] = [milliseconds(interval_seconds), max(1, burst)]
        with self._guard("reserve_pace"):
            wait_ms = await self._script(redis_scripts.RESERVE_PACE)(
                keys=[self._keys.pace(name)], args=args
            )
        return max(0.0, float(str(text(wait_ms))) / 1000)

    async def hold_pace(self, name: str, seconds: float) -> None:
        with self._guard("hold_pace"):
            await self._script(redis_scripts.HOLD_PACE)(
                keys=[self._keys.pace(name)], args=[milliseconds(seconds)]
            )


class RedisLeases(RedisBase):
    async def acquire_lock(self, name: str, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(16)
        ttl_ms = milliseconds(ttl_seconds)
        with self._guard("acquire_lock"):
            acquired = await self._redis.set(self._keys.lock(name), token, nx=True, px=ttl_ms)
        return token if acquired else None

    async def release_lock(self, name: str, token: str) -> bool:
        with self._guard("release_lock"):
            return bool(
                await self._script(redis_scripts.RELEASE_LOCK)(
                    keys=[self._keys.lock(name)], args=[token]
                )
            )

    async def extend_lock(self, name: str, token: str, ttl_seconds: float) -> bool:
        args: list[str | int] = [token, milliseconds(ttl_seconds)]
        with self._guard("extend_lock"):
            return bool(
                await self._script(redis_scripts.EXTEND_LOCK)(
                    keys=[self._keys.lock(name)], args=args
                )
            )

    async def register_work(
        self, kind: str, item: str, document: str, *, once: str | None, once_ttl: float
    ) -> bool:
        once_key = self._keys.claim(once) if once is not None else self._keys.claim("-")
        args: list[str | int] = [item, document, "1" if once else "0", milliseconds(once_ttl)]
        with self._guard("register_work"):
            return bool(
                await self._script(redis_scripts.REGISTER_WORK)(
                    keys=[self._keys.work(kind), once_key], args=args
                )
            )

    async def unfinished_work(self, kind: str) -> dict[str, str]:
        with self._guard("unfinished_work"):
            found = await self._redis.hgetall(self._keys.work(kind))
        return {str(text(k)): str(text(v)) for k, v in found.items()}

    async def finish_work(self, kind: str, item: str, document: str) -> bool:
        with self._guard("finish_work"):
            return bool(
                await self._script(redis_scripts.FINISH_WORK)(
                    keys=[self._keys.work(kind)], args=[item, document]
                )
            )
