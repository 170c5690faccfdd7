"""Deterministic news-like English for the benchmark (no download, same on every machine).

The 200 benchmark sentences mix the bundled sample's own sentences with sentences built
from templates; the SentencePiece training text is a larger template-built corpus, so the
base-size model's tokenizer sees realistic sub-word statistics (sentences of ~30-45 pieces).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SUBJECTS = [
    "The city council",
    "The regional government",
    "The central bank",
    "A spokesman for the ministry",
    "The company's chief executive",
    "Local residents",
    "Police officials",
    "The prime minister",
    "A group of scientists",
    "Farmers in the northern provinces",
    "The national football team",
    "Hospital administrators",
    "The transport authority",
    "Opposition lawmakers",
    "The European Commission",
    "Union leaders",
    "Environmental campaigners",
    "The foreign minister",
    "Analysts at several banks",
    "The school board",
    "Firefighters",
    "The mayor of the capital",
    "Emergency services",
    "Energy regulators",
]
VERBS = [
    "announced plans to",
    "said it would",
    "has decided to",
    "is expected to",
    "voted on Tuesday to",
    "warned that it might",
    "confirmed that it will",
    "agreed after long talks to",
    "promised to",
    "refused to",
    "is considering whether to",
    "was asked to",
]
ACTIONS = [
    "raise interest rates by a quarter of a percentage point",
    "build a new bridge across the river",
    "increase funding for public hospitals",
    "reduce emissions from coal-fired power plants",
    "open three new railway stations before the end of the year",
    "review the safety of older buildings",
    "hire more teachers for rural schools",
    "cut taxes for small businesses",
    "delay the vote until next month",
    "expand the network of electric bus routes",
    "investigate the causes of the flooding",
    "publish the full report on its website",
    "sign a trade agreement with its neighbours",
    "restore the historic theatre in the old town",
    "improve access to clean drinking water",
]
TAILS = [
    "despite strong opposition from local businesses",
    "according to a statement released on Monday",
    "after months of negotiations",
    "in response to rising prices",
    "as part of a wider reform programme",
    "following a series of protests",
    "although the details remain unclear",
    "in the coming weeks",
    "citing concerns about the budget",
    "to the surprise of many observers",
    "before the winter season",
    "in a move welcomed by residents",
    "amid growing pressure from voters",
]
EXTRAS = [
    "Officials said the cost would reach about {n} million euros.",
    "More than {n} people attended the meeting on Wednesday evening.",
    "The figures showed an increase of {p} percent compared with last year.",
    "\u201cWe have listened carefully to everyone involved,\u201d the spokesman told reporters.",
    "Critics argue that the plan does not go far enough to protect vulnerable families.",
    "The decision is likely to be challenged in court, legal experts said.",
    "Work is scheduled to begin in {month} and should take about {n} months.",
    "Several regional newspapers reported the news on their front pages.",
]
MONTHS = ["January", "March", "April", "June", "September", "October", "November"]


def template_sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if i % 3 == 2:
            out.append(rng.choice(EXTRAS).format(n=rng.randint(2, 900), p=rng.randint(2, 40), month=rng.choice(MONTHS)))
        else:
            out.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(ACTIONS)}, {rng.choice(TAILS)}.")
    return out


def sample_sentences() -> list[str]:
    """Sentences from the bundled sample's plain-text articles."""
    from syndicate.translate.segments import split_sentences

    out: list[str] = []
    for path in sorted((ROOT / "examples" / "articles").glob("*.txt")):
        blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n")[1:]]
        for block in blocks:
            if block in ("Previous Article", "Next Article") or len(block) < 80:
                continue
            block = re.sub(r"\[Source attribution:[^\]]*\]", "", block).strip()
            out.extend(s for s, _ in split_sentences(block) if 40 <= len(s) <= 300)
    return out


def benchmark_paragraphs(count: int = 40, per: int = 5) -> list[str]:
    """``count`` paragraphs of ``per`` sentences: sample sentences first, templates after."""
    sentences = sample_sentences()[: count * per // 2]
    sentences += template_sentences(count * per - len(sentences), seed=7)
    return [" ".join(sentences[i * per : (i + 1) * per]) for i in range(count)]


def training_text(path: Path, lines: int = 6000) -> Path:
    """A few hundred KB of English for SentencePiece."""
    text = sample_sentences() + template_sentences(lines, seed=11)
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path
