from tests.fake_openai.fixture import fake_openai

__all__ = ["fake_openai"]
