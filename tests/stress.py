"""Generated documents that make footnote placement hard: many notes of varied
length, several calls in one line, notes near page ends, long paragraphs."""

from __future__ import annotations

import random

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "they",
    "you",
    "were",
    "her",
    "she",
    "there",
    "been",
    "their",
    "one",
    "all",
    "we",
    "can",
    "has",
    "more",
    "when",
    "will",
    "would",
    "if",
    "so",
    "no",
    "what",
    "up",
    "out",
    "about",
    "into",
    "than",
    "them",
    "could",
    "only",
    "other",
    "time",
    "new",
    "some",
    "these",
    "two",
    "may",
    "first",
    "then",
    "do",
    "any",
    "like",
    "my",
    "now",
    "over",
    "such",
    "our",
    "man",
    "me",
    "even",
    "most",
    "made",
    "after",
    "also",
    "did",
    "many",
    "before",
    "must",
    "through",
    "back",
    "years",
    "where",
    "much",
    "your",
    "way",
    "well",
    "down",
    "should",
    "because",
    "each",
    "just",
    "those",
    "people",
    "how",
    "too",
    "little",
    "state",
    "good",
    "very",
    "make",
    "world",
    "still",
    "own",
    "see",
    "men",
    "work",
    "long",
    "get",
    "here",
    "between",
    "both",
    "life",
    "being",
    "under",
    "never",
    "day",
    "same",
    "another",
    "know",
    "while",
    "last",
    "might",
    "us",
    "great",
    "old",
    "year",
    "off",
    "come",
    "since",
    "against",
    "go",
    "came",
    "right",
    "used",
    "take",
    "three",
    "diplomacy",
    "Pyongyang",
    "juche",
    "socialist",
    "revolution",
    "international",
    "cooperation",
    "self-reliance",
    "non-aligned",
    "independence",
    "delegation",
    "communiqué",
    "ambassador",
]


def _sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def document(seed: int, notes: int) -> str:
    """A Markdown body with ``notes`` notes, the same for the same seed."""
    rng = random.Random(seed)
    paragraphs: list[str] = []
    definitions: list[str] = []
    number = 0
    while number < notes:
        sentences = []
        for _ in range(rng.choice([1, 2, 3, 5, 8, 14])):  # short and very long paragraphs
            sentence = _sentence(rng, 4, 22)
            cluster = rng.random()
            calls = 0
            if cluster < 0.35:
                calls = 1
            elif cluster < 0.45:
                calls = rng.randint(2, 4)  # several calls in one line
            words = sentence.split(" ")
            for _ in range(calls):
                if number >= notes:
                    break
                number += 1
                # after a word anywhere in the sentence, sometimes right after the previous call
                at = len(words) - 1 if rng.random() < 0.3 else rng.randrange(len(words))
                words[at] += f"[^{number}]"
                length = rng.choice([1, 1, 1, 2, 3, 6, 12])  # mostly short notes, some long ones
                definitions.append(f"[^{number}]: " + " ".join(_sentence(rng, 3, 14) for _ in range(length)))
            sentences.append(" ".join(words))
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs) + "\n\n" + "\n".join(definitions) + "\n"
