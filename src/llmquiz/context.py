"""The resolved global options of one llmquiz run: the data folder, the bank and the grader they open."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from llmquiz.bank import Bank, Parser, load_bank
from llmquiz.errors import BadInputError
from llmquiz.paths import cache_dir, data_home, shipped_bank_dir

if TYPE_CHECKING:
    from llmquiz.cardcache import CardCache
    from llmquiz.grading import Grader


def semantic_grading_installed() -> bool:
    """Whether the bundled model's CPU engine (numpy, tokenizers, safetensors) can be imported."""
    from importlib.util import find_spec

    try:
        return all(find_spec(name) is not None for name in ("numpy", "tokenizers", "safetensors"))
    except (ImportError, ValueError):
        return False


@dataclass
class Context:
    bank_paths: tuple[Path, ...] = ()
    home_override: Path | None = None
    grader_kind: str = "semantic"  # checked where the grader is made (grading.make_grader)
    model: str | None = None
    device: str = "auto"
    debug: bool = False
    _bank: Bank | None = field(default=None, repr=False)

    @property
    def home(self) -> Path:
        return data_home(self.home_override)

    @property
    def banks(self) -> tuple[Path, ...]:
        return self.bank_paths or (shipped_bank_dir(),)

    def cards(self) -> CardCache:
        """The data folder's kept FSRS cards: a cache, replayed again whenever in doubt."""
        from llmquiz.cardcache import CardCache  # fsrs: only for the commands that schedule

        return CardCache(self.home)

    def bank_parser(self) -> Parser:
        """What reads a bank file's text: parse_bank_text, with the data folder's parsed files kept."""
        from llmquiz.bankcache import ParsedBankCache

        return ParsedBankCache(cache_dir(self.home)).parse

    def bank(self) -> Bank:
        if self._bank is None:
            self._bank = load_bank(self.banks, self.bank_parser())
        return self._bank

    def grader(self, kind: str | None = None, *, answers: int = 1) -> Grader:
        """A grader as the options ask, for about `answers` answers; nothing heavy is imported
        until its load()."""
        from llmquiz.grading import make_grader
        from llmquiz.grading.embedder import engine_for_batch

        if (
            self.model
            and self.model.startswith(("/", ".", "~"))
            and not Path(self.model).expanduser().exists()
        ):
            raise BadInputError(f"--model {self.model}: no such folder")

        bank = self.bank()
        return make_grader(
            kind or self.grader_kind,
            model=self.model,
            device=self.device,
            home=self.home,
            neighbours=bank.questions,
            engine=engine_for_batch(answers, self.device),
        )
