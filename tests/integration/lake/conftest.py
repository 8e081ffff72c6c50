"""Fixtures of the lake tests: two throwaway topics a private sink reads."""

from collections.abc import AsyncIterator

import pytest

from tests.integration.lake.kafka_helpers import create_topics, delete_topics


@pytest.fixture
async def topics(unique: str) -> AsyncIterator[list[str]]:
    names = [f"test.lake.{unique}.a", f"test.lake.{unique}.b"]
    await create_topics(names)
    yield names
    await delete_topics(names)
