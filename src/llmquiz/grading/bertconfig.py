"""A BERT checkpoint's settings and tokenizer: what both forward passes (torch, numpy) read.

Imports neither torch nor numpy, so the numpy engine (npbert.py) can use it without torch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length: longer texts are truncated


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("model_type") != "bert" or raw.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{path}: not a BERT model with GELU activations")
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


def load_tokenizer(model_dir: Path, max_tokens: int = MAX_TOKENS):  # -> tokenizers.Tokenizer
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens, strategy="longest_first")
    pad = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
    return tokenizer
