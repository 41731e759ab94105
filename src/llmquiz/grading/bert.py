"""A BERT encoder in plain torch: all-MiniLM-L6-v2's forward pass without sentence-transformers.

Importing sentence-transformers costs 8-10 s (transformers, scikit-learn, scipy...); this
module needs only torch, `safetensors` and `tokenizers`. The layer names follow the
checkpoint's, so the weights load as they are. It also carries the low-rank adapters
(LoRA) of the claim judge: `add_adapters` wraps the chosen linear layers, `merge_adapters`
folds them into the weights for inference.

Heavy: imports torch. Import it only once a model is needed.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

# re-exported: training/ and judge.py import them from here
from llmquiz.grading.bertconfig import MAX_TOKENS, BertConfig, load_tokenizer  # noqa: F401

ADAPTED = ("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense")


class _Embeddings(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = (
            self.word_embeddings(ids)
            + self.position_embeddings(positions)
            + self.token_type_embeddings(types)
        )
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(
            split(self.query(x)), split(self.key(x)), split(self.value(x)), mask
        )
        return out.transpose(1, 2).reshape(b, t, d)


class _Output(nn.Module):
    """Dense, then the residual and LayerNorm (BERT's `*.output` blocks)."""

    def __init__(self, d_in: int, d_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Output(c.hidden_size, c.hidden_size, c.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, mask), x)


class _Intermediate(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _Output(c.intermediate_size, c.hidden_size, c.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, mask)
        return self.output(self.intermediate(x), x)


class _Encoder(nn.Module):
    def __init__(self, c: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


class Bert(nn.Module):
    """BERT without its pooler: token ids in, the last layer's token vectors out."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    def forward(
        self, ids: torch.Tensor, attention: torch.Tensor, types: torch.Tensor | None = None
    ) -> torch.Tensor:
        if types is None:
            types = torch.zeros_like(ids)
        x = self.embeddings(ids, types)
        # (batch, 1, 1, tokens): every query may attend to the real tokens only
        mask = attention.bool()[:, None, None, :]
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


def mean_pool(tokens: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """Mean of the real tokens' vectors (special tokens included, as sentence-transformers does)."""
    weights = attention.unsqueeze(-1).to(tokens.dtype)
    return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def load_bert(model_dir: Path) -> Bert:
    """The BERT of a sentence-transformers folder (config.json + model.safetensors), in eval mode."""
    from safetensors.torch import load_file

    model = Bert(BertConfig.from_file(model_dir / "config.json"))
    state = load_file(str(model_dir / "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    model.load_state_dict(state, strict=True)
    return model.eval()


# --- low-rank adapters ------------------------------------------------------------------


class LoRALinear(nn.Module):
    """A frozen linear layer plus a trainable low-rank update: W x + (alpha / r) B A x."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, generator: torch.Generator) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        a = torch.empty(rank, base.in_features)
        bound = 1 / math.sqrt(base.in_features)
        a.uniform_(-bound, bound, generator=generator)
        self.lora_a = nn.Parameter(a)
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))  # starts as the identity update

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale

    def merged(self) -> nn.Linear:
        """The base layer with the update folded into its weight."""
        merged = nn.Linear(self.base.in_features, self.base.out_features)
        with torch.no_grad():
            merged.weight.copy_(self.base.weight + self.scale * (self.lora_b @ self.lora_a))
            merged.bias.copy_(self.base.bias)
        return merged


def _adapted_linears(model: Bert) -> list[tuple[nn.Module, str, str]]:
    """(parent module, attribute, dotted name) of every linear layer that gets an adapter."""
    out = []
    for name, module in model.named_modules():
        for attr, child in module.named_children():
            full = f"{name}.{attr}" if name else attr
            if isinstance(child, nn.Linear | LoRALinear) and full.endswith(ADAPTED):
                out.append((module, attr, full))
    return out


def add_adapters(model: Bert, rank: int, alpha: float, seed: int) -> None:
    """Freeze the model and wrap every adapted linear layer in a LoRALinear."""
    generator = torch.Generator().manual_seed(seed)
    for p in model.parameters():
        p.requires_grad_(False)
    for parent, attr, _ in _adapted_linears(model):
        setattr(parent, attr, LoRALinear(getattr(parent, attr), rank, alpha, generator))


def merge_adapters(model: Bert) -> None:
    """Fold every adapter into its layer's weight: inference then costs what plain BERT costs."""
    for parent, attr, _ in _adapted_linears(model):
        child = getattr(parent, attr)
        if isinstance(child, LoRALinear):
            setattr(parent, attr, child.merged())
