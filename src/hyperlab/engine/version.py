"""The engine's version: part of every trial key, so results of older training semantics are not mixed
with newer ones. Change it only when the same config + seed would train differently."""

from __future__ import annotations

ENGINE_VERSION: str = "1"
