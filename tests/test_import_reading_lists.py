"""Import drops reading lists from answers and key points, as the README says."""

from __future__ import annotations

from pathlib import Path

from llmquiz.importing import import_notes, render_bank_yaml

READING_LISTS = """# RLHF notes

## What is RLHF?
RLHF fine-tunes a model on human preferences through a reward model.

Reading list:
- https://arxiv.org/abs/2203.02155

## What is DPO?
DPO optimises the policy on preference pairs directly, without a reward model.

Further reading: https://arxiv.org/abs/2305.18290

## What is PPO?
- a policy-gradient method with a clipped objective
- References:
  - https://arxiv.org/abs/1707.06347
- each update stays close to the old policy

### See also
- the TRPO paper

## What causes hallucination?
Sources: noisy training data and decoding that favours fluent guesses.
"""


def test_reading_lists_are_dropped_from_answers_and_key_points(tmp_path: Path) -> None:
    path = tmp_path / "rlhf.md"
    path.write_text(READING_LISTS, encoding="utf-8")
    result = import_notes(path)
    rlhf, dpo, ppo, hallucination = result.items
    assert rlhf.answer == "RLHF fine-tunes a model on human preferences through a reward model."
    assert dpo.answer == "DPO optimises the policy on preference pairs directly, without a reward model."
    assert ppo.answer == (
        "- a policy-gradient method with a clipped objective\n- each update stays close to the old policy"
    )
    written = render_bank_yaml(result)
    for listed in ("Reading list", "Further reading", "arxiv", "References", "See also", "TRPO"):
        assert listed not in written
    # 'Sources:' without a link may be content, and is kept
    assert hallucination.answer.startswith("Sources: noisy training data")
