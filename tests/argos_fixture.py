"""Build small but structurally real Argos Translate packages, offline, in about a second.

Argos language packages cannot be downloaded where our tests run, so the tests build
their own ``.argosmodel``: a zip with ONE top-level directory holding

- ``metadata.json``: the fields argostranslate reads (type, from/to codes, version, ...),
- ``sentencepiece.model``: a SentencePiece model trained here on the embedded text below
  (plus optional extra files), so every machine builds the same tokenizer,
- ``model/``: a CTranslate2 Transformer written with ``ctranslate2.specs``,
- ``minisbd/sbd.onnx`` (when ``onnx`` is importable): a rule-based sentence splitter in
  MiniSBD's ONNX format, so argostranslate's own code never downloads one.

Model kinds:

- ``echo``: hand-set weights whose output equals the input, token for token (so the
  text comes back SentencePiece-normalised). Deterministic, stops by itself.
- ``permuted``: the echo model with its output projection rows permuted among the
  ordinary pieces, so every ordinary piece is replaced by another fixed piece. The output
  is deterministic, stops by itself, and differs from the input: it tells translated text
  from untranslated text, and breaks names the way a real model can.
- ``random``: random weights, for timing only. Such a model rarely emits ``</s>`` and so
  decodes to the length limit; never use it for correctness.

This is the project's own copy of the recipe in ``shared/tools/build_argos_fixture.py``;
the tests must run without that folder.

Benchmark size (what a real Argos model costs to run)::

    build_package(out, kind="echo", layers=6, d_model=512, ffn=2048, vocab=32000,
                  quantization="int8", sp_vocab=8000, sp_extra_files=[...])

The extra echo layers are all-zero blocks (identity through the residual path), but
CTranslate2 still does their full dense work, as for a real model.
"""

from __future__ import annotations

import json
import string
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # numpy comes with ctranslate2; imported lazily so tests can skip cleanly
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

Kind = Literal["echo", "permuted", "random"]

EN_LINES: tuple[str, ...] = (
    "The city council approved a new budget on Tuesday after months of debate.",
    "Officials said the plan would add more buses to the northern routes next year.",
    "Heavy rain caused flooding in several neighborhoods, and schools were closed.",
    "The company reported higher profits than analysts had expected for the quarter.",
    "Scientists have discovered a new species of frog in the mountains of Peru.",
    "The minister will travel to Brussels to meet European leaders next week.",
    "Firefighters worked through the night to control the blaze near the highway.",
    "Prices of fresh vegetables rose sharply because of the long drought.",
    "The museum reopened its doors to the public after a two-year renovation.",
    "Voters will go to the polls in March to elect a new regional government.",
    "The hospital said the patient was in stable condition on Wednesday morning.",
    "Police are asking witnesses to come forward with any information about the crash.",
    "The national team won the match two goals to one in front of a packed stadium.",
    "A new report warns that sea levels are rising faster than previously thought.",
    "Farmers say the new trade agreement could help them export more grain.",
    "The president said on Monday that the government would not raise taxes.",
    "Thousands of people marched through the capital to demand higher wages.",
    "The central bank kept interest rates unchanged for the third month in a row.",
    "Engineers expect the bridge to be completed before the end of the summer.",
    "Teachers and parents met to discuss the safety of children on the way to school.",
)

ES_LINES: tuple[str, ...] = (
    "El ayuntamiento aprobó un nuevo presupuesto el martes tras meses de debate.",
    "Los funcionarios dijeron que el plan añadiría más autobuses a las rutas del norte.",
    "Las fuertes lluvias causaron inundaciones en varios barrios y se cerraron las escuelas.",
    "La empresa informó beneficios mayores de lo que esperaban los analistas.",
    "Los científicos han descubierto una nueva especie de rana en las montañas de Perú.",
    "El ministro viajará a Bruselas para reunirse con los líderes europeos la próxima semana.",
    "Los bomberos trabajaron toda la noche para controlar el incendio cerca de la autopista.",
    "Los precios de las verduras frescas subieron mucho por la larga sequía.",
    "El museo reabrió sus puertas al público después de una renovación de dos años.",
    "Los votantes acudirán a las urnas en marzo para elegir un nuevo gobierno regional.",
    "El hospital dijo que el paciente estaba en condición estable el miércoles por la mañana.",
    "La policía pide a los testigos que aporten cualquier información sobre el accidente.",
    "La selección nacional ganó el partido dos goles a uno ante un estadio lleno.",
    "Un nuevo informe advierte que el nivel del mar sube más rápido de lo previsto.",
    "Los agricultores dicen que el nuevo acuerdo comercial podría ayudarles a exportar más grano.",
    "El presidente dijo el lunes que el gobierno no subiría los impuestos.",
    "Miles de personas marcharon por la capital para exigir salarios más altos.",
    "El banco central mantuvo los tipos de interés sin cambios por tercer mes consecutivo.",
    "Los ingenieros esperan que el puente esté terminado antes del final del verano.",
    "Profesores y padres se reunieron para hablar de la seguridad de los niños.",
)

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "ru": "Russian",
}

#: Longest source (in pieces) the echo model's position table covers.
MAX_POSITIONS = 1100


def build_package(
    out: Path,
    from_code: str = "en",
    to_code: str = "es",
    *,
    kind: Kind = "echo",
    layers: int = 1,
    d_model: int = 384,
    ffn: int = 4,
    vocab: int = 0,
    quantization: str | None = None,
    sp_vocab: int = 400,
    sp_extra_files: Sequence[Path | str] = (),
    heads: int = 8,
    target_prefix: str = "",
    package_version: str = "1.0",
    dir_name: str | None = None,
    minisbd: bool = True,
    seed: int = 0,
) -> Path:
    """Build a ``.argosmodel`` at ``out`` and return ``out``.

    ``layers``/``d_model``/``ffn`` size the Transformer; ``vocab`` pads the CTranslate2
    vocabulary to a realistic output-layer size with pieces SentencePiece never emits;
    ``quantization`` is passed to ``spec.optimize`` ("int8" is what Argos ships).
    ``heads`` is used by ``kind="random"`` only: the echo and permuted models need a
    single attention head (their cross-attention matches positions over one subspace
    of the model dimension, which several heads would cut into pieces), so they ignore
    it; the cost of attention hardly depends on the head count anyway.
    ``target_prefix`` writes Argos's ``target_prefix`` metadata, makes the prefix a
    SentencePiece user symbol (as multilingual Argos packages do), and shifts the
    decoder's positions so the echo still copies the whole source after the forced
    prefix token. ``dir_name`` names the zip's top-level directory (default
    ``translate-<from>_<to>-fixture``, the same for every version, so a newer build
    replaces an older one on install).
    """
    if kind not in ("echo", "permuted", "random"):
        raise ValueError(f"unknown kind {kind!r}: expected echo, permuted or random")
    name = dir_name or f"translate-{from_code}_{to_code}-fixture"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / name
        root.mkdir()
        user_symbols = [target_prefix] if target_prefix else []
        sp_model = train_sentencepiece(
            corpus_lines(),
            sp_vocab,
            root,
            sp_extra_files,
            byte_fallback=kind != "random",
            user_symbols=user_symbols,
        )
        if kind == "random":
            build_random_model(
                sp_model,
                root / "model",
                layers=layers,
                d_model=d_model,
                heads=heads,
                ffn=ffn,
                vocab_size=vocab,
                quantization=quantization,
                seed=seed,
            )
        else:
            build_copy_model(
                sp_model,
                root / "model",
                permute=kind == "permuted",
                layers=layers,
                d_model=d_model,
                ffn=ffn,
                vocab_size=vocab,
                quantization=quantization,
                seed=seed,
                target_prefix=target_prefix,
            )
        if minisbd and _onnx_available():
            build_minisbd_onnx(root / "minisbd" / "sbd.onnx", from_code)
        metadata: dict[str, Any] = {
            "package_version": package_version,
            "argos_version": "1.11.0",
            "type": "translate",
            "from_code": from_code,
            "from_name": LANGUAGE_NAMES.get(from_code, from_code),
            "to_code": to_code,
            "to_name": LANGUAGE_NAMES.get(to_code, to_code),
            "links": [],
        }
        if target_prefix:
            metadata["target_prefix"] = target_prefix
        (root / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
        (root / "README.md").write_text(
            f"Offline test fixture ({kind} model), NOT a real translator.\n", encoding="utf-8"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(tmp).as_posix())
    return out


def corpus_lines() -> list[str]:
    """The embedded training text (identical on every machine)."""
    return list(EN_LINES) + list(ES_LINES)


def train_sentencepiece(
    lines: list[str],
    vocab_size: int,
    out_dir: Path,
    extra_files: Sequence[Path | str] = (),
    *,
    byte_fallback: bool = False,
    user_symbols: Sequence[str] = (),
) -> Path:
    """Train ``out_dir/sentencepiece.model``; ids 0, 1, 2 are CTranslate2's <unk> <s> </s>."""
    import sentencepiece as spm

    for extra in extra_files:
        text = Path(extra).read_text(encoding="utf-8", errors="ignore")
        lines = lines + [line.strip() for line in text.splitlines() if line.strip()]
    options: dict[str, Any] = {}
    if user_symbols:
        options["user_defined_symbols"] = list(user_symbols)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_prefix=str(out_dir / "sentencepiece"),
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # small corpus: take as many pieces as it supports
        model_type="unigram",
        character_coverage=1.0,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        # Any UTF-8 text then round-trips through the copy models (no <unk>).
        byte_fallback=byte_fallback,
        minloglevel=2,
        **options,
    )
    (out_dir / "sentencepiece.vocab").unlink()
    return out_dir / "sentencepiece.model"


def _vocabulary(sp_model: Path, vocab_size: int) -> tuple[list[str], list[int]]:
    """CT2 vocabulary (SP pieces + padding) and the ids of the ordinary SP pieces."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    size = sp.get_piece_size()
    pieces = [sp.id_to_piece(i) for i in range(size)]
    if pieces[:3] != ["<unk>", "<s>", "</s>"]:
        raise AssertionError(f"unexpected special pieces {pieces[:3]}")
    ordinary = [
        i for i in range(size) if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or sp.is_unused(i))
    ]
    # Padding to a realistic output-layer size: pieces SentencePiece never emits.
    pieces += [f"<extra_{i}>" for i in range(max(0, vocab_size - len(pieces)))]
    return pieces, ordinary


def build_copy_model(
    sp_model: Path,
    model_dir: Path,
    *,
    permute: bool = False,
    layers: int = 1,
    d_model: int = 384,
    ffn: int = 4,
    vocab_size: int = 0,
    quantization: str | None = None,
    seed: int = 0,
    target_prefix: str = "",
) -> int:
    """A deterministic copy model (echo, or echo through a fixed piece permutation).

    One head. The model dimension is split in three subspaces: A (token identity),
    P (position), C (copied token). Every weight is zero except the token embeddings in A,
    the position tables in P, one cross-attention whose query and key read P (decoder
    step t attends to source position t) and whose value moves A to C, and an output
    projection reading C. The source gets </s> appended (``add_source_eos``), so the step
    after the last source token copies </s> and decoding stops by itself.

    ``permute``: output row of piece ``f(u)`` reads token ``u``, where ``f`` shifts each
    ordinary piece to the next one (a fixed derangement); specials and bytes map to
    themselves, so </s> still ends the output. ``target_prefix``: the decoder's position
    table is shifted by one, because CTranslate2 spends decoder step 0 on the forced
    prefix token; step t then reads source position t - 1.

    Returns the vocabulary size.
    """
    import numpy as np
    from ctranslate2.specs import transformer_spec

    vocab, ordinary = _vocabulary(sp_model, vocab_size)
    if target_prefix:
        ordinary = [i for i in ordinary if vocab[i] != target_prefix]
    size, d = len(vocab), d_model
    k = d // 3
    sub_a, sub_p, sub_c = slice(0, k), slice(k, 2 * k), slice(2 * k, 3 * k)
    rng = np.random.default_rng(seed)

    def unit_rows(n: int) -> Matrix:
        # Zero-mean rows are LayerNorm-neutral; unit norm keeps the scores comparable.
        m = rng.standard_normal((n, k)).astype(np.float32)
        m -= m.mean(1, keepdims=True)
        rows: Matrix = (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)
        return rows

    tok = unit_rows(size)
    emb = np.zeros((size, d), np.float32)
    emb[:, sub_a] = tok
    positions = unit_rows(MAX_POSITIONS + 1)
    enc_pe = np.zeros((MAX_POSITIONS, d), np.float32)
    enc_pe[:, sub_p] = positions[:MAX_POSITIONS]
    dec_pe = enc_pe.copy()
    if target_prefix:
        dec_pe[1:, sub_p] = positions[: MAX_POSITIONS - 1]
        dec_pe[0, sub_p] = positions[MAX_POSITIONS]  # the prefix step matches nothing
    eye = np.eye(k, dtype=np.float32)

    def zeros_linear(spec: Any, out_dim: int, in_dim: int) -> None:
        spec.weight = np.zeros((out_dim, in_dim), np.float32)
        spec.bias = np.zeros(out_dim, np.float32)

    def layer_norm(spec: Any) -> None:
        spec.gamma = np.ones(d, np.float32)
        spec.beta = np.zeros(d, np.float32)

    def zero_block(layer: Any) -> None:
        layer_norm(layer.self_attention.layer_norm)
        zeros_linear(layer.self_attention.linear[0], 3 * d, d)
        zeros_linear(layer.self_attention.linear[1], d, d)
        layer_norm(layer.ffn.layer_norm)
        zeros_linear(layer.ffn.linear_0, ffn, d)
        zeros_linear(layer.ffn.linear_1, d, ffn)

    # OpenNMT-py style pre-norm Transformer, as Argos models are.
    spec = transformer_spec.TransformerSpec.from_config(layers, 1, pre_norm=True)
    for part, pe in ((spec.encoder, enc_pe), (spec.decoder, dec_pe)):
        part.scale_embeddings = False
        part.position_encodings.encodings = pe
        layer_norm(part.layer_norm)
        for layer in part.layer:
            zero_block(layer)
    for layer in spec.decoder.layer[1:]:
        layer_norm(layer.attention.layer_norm)
        zeros_linear(layer.attention.linear[0], d, d)
        zeros_linear(layer.attention.linear[1], 2 * d, d)
        zeros_linear(layer.attention.linear[2], d, d)
    spec.encoder.embeddings[0].weight = emb
    spec.decoder.embeddings.weight = emb
    attention = spec.decoder.layer[0].attention
    layer_norm(attention.layer_norm)
    wq = np.zeros((d, d), np.float32)
    wq[sub_p, sub_p] = 4.0 * eye  # query: position
    wkv = np.zeros((2 * d, d), np.float32)
    wkv[sub_p, sub_p] = eye  # key: position
    wkv[d + 2 * k : d + 3 * k, sub_a] = eye  # value: A -> C
    wo = np.zeros((d, d), np.float32)
    wo[sub_c, sub_c] = eye
    for linear, weight in zip(attention.linear, (wq, wkv, wo), strict=True):
        linear.weight = weight
        linear.bias = np.zeros(weight.shape[0], np.float32)
    read = np.arange(size)  # read[v]: the source token whose copy makes output v
    if permute:
        read[np.roll(ordinary, -1)] = ordinary
    proj = np.zeros((size, d), np.float32)
    proj[:, sub_c] = 2.0 * tok[read]
    spec.decoder.projection.weight = proj
    spec.decoder.projection.bias = np.zeros(size, np.float32)
    spec.config.add_source_eos = True
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.optimize(quantization=quantization)
    model_dir.mkdir(parents=True)
    spec.save(str(model_dir))
    return size


def build_random_model(
    sp_model: Path,
    model_dir: Path,
    *,
    layers: int = 2,
    d_model: int = 64,
    heads: int = 8,
    ffn: int = 128,
    vocab_size: int = 0,
    quantization: str | None = None,
    seed: int = 0,
) -> int:
    """Random weights at any size (timing only: output is meaningless and rarely ends)."""
    import numpy as np
    from ctranslate2.specs import transformer_spec

    vocab, _ = _vocabulary(sp_model, vocab_size)
    size, d = len(vocab), d_model
    rng = np.random.default_rng(seed)

    def rand(rows: int, cols: int) -> Matrix:
        weights: Matrix = rng.standard_normal((rows, cols), dtype=np.float32) / np.sqrt(cols)
        return weights.astype(np.float32)

    def linear(spec: Any, out_dim: int, in_dim: int) -> None:
        spec.weight = rand(out_dim, in_dim)
        spec.bias = np.zeros(out_dim, np.float32)

    def layer_norm(spec: Any) -> None:
        spec.gamma = np.ones(d, np.float32)
        spec.beta = np.zeros(d, np.float32)

    def self_attention(spec: Any) -> None:
        layer_norm(spec.layer_norm)
        linear(spec.linear[0], 3 * d, d)
        linear(spec.linear[1], d, d)

    def feed_forward(spec: Any) -> None:
        layer_norm(spec.layer_norm)
        linear(spec.linear_0, ffn, d)
        linear(spec.linear_1, d, ffn)

    spec = transformer_spec.TransformerSpec.from_config(layers, heads, pre_norm=True)
    emb = rand(size, d)  # shared embeddings and tied projection, as Argos models
    spec.encoder.embeddings[0].weight = emb
    layer_norm(spec.encoder.layer_norm)
    for layer in spec.encoder.layer:
        self_attention(layer.self_attention)
        feed_forward(layer.ffn)
    spec.decoder.embeddings.weight = emb
    layer_norm(spec.decoder.layer_norm)
    for layer in spec.decoder.layer:
        self_attention(layer.self_attention)
        layer_norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], d, d)
        linear(layer.attention.linear[1], 2 * d, d)
        linear(layer.attention.linear[2], d, d)
        feed_forward(layer.ffn)
    spec.decoder.projection.weight = emb
    spec.decoder.projection.bias = np.zeros(size, np.float32)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.optimize(quantization=quantization)
    model_dir.mkdir(parents=True)
    spec.save(str(model_dir))
    return size


# ---- MiniSBD-compatible rule-based sentence splitter --------------------------------
# MiniSBD runs an ONNX graph: inputs units[B,T] (int64 char ids), features[B,T,F]
# (float), output logits[B,T,5]; argmax 1 = token end, 2 = sentence end. The char
# vocabulary, config and lexicon live in the model's metadata_props. Rule: every char
# ends a token; . ! ? … end a sentence when the next char is whitespace or the end of the
# text and the char after that is not a lowercase letter ("U.S. plan" stays one sentence,
# "3.5" never splits). Syndicate splits sentences itself; this only keeps argostranslate's
# own code from downloading a splitter if anything ever calls it on these packages.
SBD_CHARS = string.printable + "áéíóúüñÁÉÍÓÚÜÑ¿¡«»“”‘’—–…àèìòùâêîôûäëïöçÀÈÌÒÙÂÊÎÔÛÄËÏÖÇ€£°"  # noqa: RUF001


def _onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return True


def build_minisbd_onnx(path: Path, lang: str = "en") -> None:
    """Write the rule-based splitter described above to ``path``."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    id2unit = ["<PAD>", "<UNK>", *sorted(set(SBD_CHARS))]
    size = len(id2unit)
    idx = {unit: i for i, unit in enumerate(id2unit)}
    base = np.zeros((size, 5), np.float32)
    base[:, 1] = 1.0  # token end everywhere
    enders = np.zeros(size, np.float32)
    for char in ".!?…":
        enders[idx[char]] = 1.0
    space = np.zeros(size, np.float32)
    for char in " \n\t\r":
        if char in idx:
            space[idx[char]] = 1.0
    space[0] = 1.0  # <PAD> counts as the end of the text
    not_lower = np.ones(size, np.float32)
    for unit, i in idx.items():
        if len(unit) == 1 and unit.islower():
            not_lower[i] = 0.0
    boost = np.array([0, 0, 5, 0, 0], np.float32)

    initializers = [
        numpy_helper.from_array(base, "base"),
        numpy_helper.from_array(enders, "enders"),
        numpy_helper.from_array(space, "space"),
        numpy_helper.from_array(boost, "boost"),
        numpy_helper.from_array(not_lower, "not_lower"),
        numpy_helper.from_array(np.array([0, 0, 0, 2], np.int64), "pads"),
        numpy_helper.from_array(np.array(0, np.int64), "padval"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([2], np.int64), "two"),
        numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
        numpy_helper.from_array(np.array([2**62], np.int64), "big"),
        numpy_helper.from_array(np.array([2], np.int64), "ax2"),
    ]
    nodes = [
        helper.make_node("Gather", ["base", "units"], ["b"], axis=0),
        helper.make_node("Pad", ["units", "pads", "padval"], ["upad"]),
        helper.make_node("Slice", ["upad", "one", "minus1", "one"], ["unext"]),  # units[t+1]
        helper.make_node("Slice", ["upad", "two", "big", "one"], ["unext2"]),  # units[t+2]
        helper.make_node("Gather", ["enders", "units"], ["is_end"], axis=0),
        helper.make_node("Gather", ["space", "unext"], ["next_sp"], axis=0),
        helper.make_node("Gather", ["not_lower", "unext2"], ["next2_ok"], axis=0),
        helper.make_node("Mul", ["is_end", "next_sp"], ["sent0"]),
        helper.make_node("Mul", ["sent0", "next2_ok"], ["sent"]),
        helper.make_node("Unsqueeze", ["sent", "ax2"], ["sent3"]),
        helper.make_node("Mul", ["sent3", "boost"], ["delta"]),
        helper.make_node("Add", ["b", "delta"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "rule_sbd",
        [
            helper.make_tensor_value_info("units", TensorProto.INT64, ["B", "T"]),
            helper.make_tensor_value_info("features", TensorProto.FLOAT, ["B", "T", "F"]),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["B", "T", 5])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    vocab_state = {
        "lang": lang,
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_unit2id": idx,
        "_id2unit": id2unit,
    }
    config = {
        "feat_funcs": ["space_before"],
        "max_seqlen": 1000,
        "batch_size": 32,
        "use_dictionary": False,
        "num_dict_feat": 0,
        "skip_newline": False,
    }
    helper.set_model_props(
        model,
        {
            "lang_code": lang,
            "config": json.dumps(config),
            "vocab": json.dumps(vocab_state),
            "lexicon": "null",
        },
    )
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
