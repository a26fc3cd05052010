"""The new-job form's "Advanced (local)" line and the job service check local settings with the
ranges of `tui.core.hyperparameters`, naming the setting."""

from __future__ import annotations

import pytest

from screens.job_advanced import parse_advanced
from tui.services.jobs import JobSpec, JobSpecError


def test_advanced_line_parses_every_kind_of_value() -> None:
    settings, problem = parse_advanced(
        "lora_r=16, lora_alpha=32, lora_dropout=0.1, lora_target_modules=q_proj|v_proj, "
        "max_seq_length=null, packing=true, gradient_checkpointing=false, quantization=4bit",
        "supervised",
    )
    assert problem == ""
    assert settings == {
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.1,
        "lora_target_modules": ["q_proj", "v_proj"],
        "max_seq_length": None,
        "packing": True,
        "gradient_checkpointing": False,
        "quantization": "4bit",
    }
    assert parse_advanced("", "dpo") == ({}, "")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("lora_r=0", "advanced.lora_r"),
        ("lora_r=eight", "advanced.lora_r"),
        ("lora_dropout=2", "advanced.lora_dropout"),
        ("quantization=2bit", "advanced.quantization"),
        ("packing=maybe", "advanced.packing"),
        ("colour=blue", "colour"),
        ("lora_r", "name=value"),
    ],
)
def test_bad_advanced_settings_name_the_setting(text: str, named: str) -> None:
    settings, problem = parse_advanced(text, "supervised")
    assert settings == {} and named in problem


def test_job_spec_checks_local_settings_with_the_same_ranges() -> None:
    ok = JobSpec(model="tiny", training_file="file-1", hyperparameters={"lora_r": 16})
    ok.validate()
    assert ok.to_create_kwargs()["method"]["supervised"]["hyperparameters"] == {"lora_r": 16}
    bad = JobSpec(model="tiny", training_file="file-1", hyperparameters={"warmup_ratio": 0.9})
    with pytest.raises(JobSpecError, match="warmup_ratio"):
        bad.validate()
