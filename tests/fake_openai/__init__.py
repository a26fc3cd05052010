"""An HTTP test double of the OpenAI API (see `server.FakeOpenAI` and `fixture.fake_openai`)."""

from tests.fake_openai.server import FakeOpenAI

__all__ = ["FakeOpenAI"]
