"""The new-job form's base-model choices say which local Hub models are downloaded already."""

from __future__ import annotations

from openai.types import Model

from screens.new_job import model_availability, model_options


def _model(model_id: str, **extra: object) -> Model:
    fields = {"id": model_id, "object": "model", "created": 0, "owned_by": "local"}
    return Model.model_validate(fields | extra)


def test_local_models_are_labelled_with_their_download_state() -> None:
    served = [
        _model("acme/tiny-chat", source="hub", downloaded=False),
        _model("Qwen/Qwen2.5-0.5B-Instruct", source="hub", downloaded=True),
        _model("mine", source="folder", downloaded=True),
        _model("ft:mine:local::abc12345"),
    ]
    notes = {m.id: model_availability(m) for m in served}
    options = dict(
        (value, label) for label, value in model_options([m.id for m in served], True, notes)
    )
    assert options["acme/tiny-chat"] == (
        "acme/tiny-chat · not downloaded · downloads when the job starts"
    )
    assert options["Qwen/Qwen2.5-0.5B-Instruct"] == "Qwen/Qwen2.5-0.5B-Instruct · downloaded"
    assert options["mine"] == "mine · on server"
    assert options["ft:mine:local::abc12345"] == "ft:mine:local::abc12345 · on server"
    # Base models come first (the first is the form's default), fine-tunes after them.
    first = [value for _, value in model_options([m.id for m in served], True, notes)][:4]
    assert first[-1].startswith("ft:") and not any(v.startswith("ft:") for v in first[:-1])
