"""Answer prompts (English and Chinese): answer only from numbered sources, cite [n],
and say plainly when the sources do not contain the answer."""

from __future__ import annotations

from kgrag.core.types import Lang

REFUSAL = {
    "en": "The provided sources do not contain the answer.",
    "zh": "提供的资料中没有包含该问题的答案。",
}

SYSTEM = {
    "en": (
        "You answer questions using only the numbered sources given. "
        "Cite the sources you use as [1], [2]. "
        f"If the sources do not contain the answer, reply exactly: {REFUSAL['en']}"
    ),
    "zh": (
        "你只能根据给出的编号资料回答问题，并用 [1]、[2] 标注引用的资料。"
        f"如果资料中没有答案，请直接回答：{REFUSAL['zh']}"
    ),
}

USER = {
    "en": "Sources:\n{context}\n\nQuestion: {question}\nAnswer (with citations):",
    "zh": "资料：\n{context}\n\n问题：{question}\n回答（附引用）：",
}


def build_messages(question: str, context: str, lang: Lang) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM[lang]},
        {"role": "user", "content": USER[lang].format(context=context, question=question)},
    ]


def is_refusal(text: str, lang: Lang) -> bool:
    """The model used the refusal sentence (or its core) instead of an answer."""
    folded = text.strip().casefold()
    markers = {
        "en": ("do not contain the answer", "does not contain the answer", "cannot answer"),
        "zh": ("没有包含", "无法回答", "没有答案"),
    }
    return any(m in folded for m in markers[lang])
