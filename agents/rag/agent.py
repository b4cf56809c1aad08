"""Answer a question from the firm's documents, citing the passages, or decline.

The steps, top to bottom: search the index as the caller (access control happens inside the
search, before ranking); decline without asking the model when no passage is relevant enough (a
threshold on the retrieval scores) or when the question names a rare word that no passage shown
holds (`agents.rag.subject_check`); otherwise number the passages, their tables written as rows
with their headers and a range table cut to the row the question's amount falls in
(`agents.rag.tables`), a ladder of thresholds in prose with the rung that amount falls on quoted
under it (`agents.rag.thresholds`), and have the model answer through a JSON schema, citing them
inline as [1], [2]; keep only citations that name a passage shown, moved to the passage that
holds the answer's figures when the model miscounted (`agents.rag.citation_check`). An answer
the model marks unanswerable, one that cites nothing shown, or one that only restates the
question (none of the cited passages' words beyond the question's) is declined: it cannot be
checked against the documents, unless a cited passage states the rule for the question's amount,
which is then the answer, quoted. An answer stating a figure that no passage holds is sent back
once with the figure named; when the second answer invents too, the answer is the cited
passage's own sentence that best matches the question, quoted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Protocol

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field, ValidationError

from agents.rag import prompts
from agents.rag.amounts import comparison
from agents.rag.citation_check import check_citations, coverage, echoes, invented, sentences
from agents.rag.currencies import codes_named, codes_written, names_written
from agents.rag.subject_check import unknown_words
from agents.rag.tables import as_rows
from agents.rag.thresholds import rules
from retrieval.chunks import Chunk
from retrieval.index import ScoredHit, SearchFilters
from services.identity import Caller
from services.llm.errors import is_cut_off

log = logging.getLogger(__name__)

MAX_ANSWER_TOKENS = 300
MIN_SIMILARITY = 0.3
"""Cosine similarity (all-MiniLM-L6-v2) the best passage must reach. On the demo golden set the
best passage of answerable questions scores 0.4 to 0.8, of off-topic ones below 0.3."""
MIN_RERANK = -4.0
"""Cross-encoder logit the best passage must reach when the index reranks."""


class Scored(Protocol):
    """Retrieval evidence of a passage (a `Passage` or a `ScoredHit`)."""

    similarity: float
    rerank_score: float | None


class PassageSearch(Protocol):
    """What the agent needs from the index (`retrieval.index.DocumentIndex` is one)."""

    def search(
        self, query: str, caller: Caller, k: int | None = None, filters: SearchFilters | None = None
    ) -> list[ScoredHit]: ...


class RagDraft(BaseModel):
    """The model's reply. `citations` comes before `answer` so the model picks its passages
    before it writes; small models often leave the [n] markers out of the text, and the listed
    numbers stand in for them."""

    answerable: bool = Field(description="False when the passages do not contain the answer.")
    citations: list[int] = Field(
        default_factory=list, description="Numbers of the passages the answer comes from."
    )
    answer: str = Field("", description="The answer, citing passages as [1], [2].")


RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "rag_answer", "schema": RagDraft.model_json_schema()},
}


class Passage(BaseModel):
    number: int = Field(description="The [n] the model saw it under, from 1.")
    chunk: Chunk
    score: float
    similarity: float
    rerank_score: float | None = None


class Citation(BaseModel):
    number: int = Field(description="The [n] in the answer; `passages[number - 1]`.")
    chunk_id: str
    document_id: int
    title: str
    section: str | None = None
    page: int | None = None

    @property
    def label(self) -> str:
        """
        >>> Citation(number=1, chunk_id="1:1:0", document_id=1, title="Fees", page=2).label
        'Fees, p. 2'
        """
        where = [self.title]
        if self.section:
            where.append(self.section)
        if self.page is not None:
            where.append(f"p. {self.page}")
        return ", ".join(where)


class RagOutcome(BaseModel):
    answer: str
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(
        default_factory=list, description="What the search returned for this caller, numbered."
    )
    declined: bool = False
    reason: str | None = Field(
        None,
        description="Why it declined: no_relevant_passages, unknown_subject (the question "
        "names a rare word no passage shown holds), model_declined, uncited (no passage "
        "shown is cited), unsupported (a figure in the answer is in no passage) or echo (the "
        "answer says nothing its passages say beyond the question's words); `quoted` when the "
        "answer is a passage's own sentence because the model twice stated such a figure, or "
        "restated the question where a cited passage states the rule for its amount.",
    )


def source_line(chunk: Chunk) -> str:
    parts = [chunk.title] + ([chunk.section] if chunk.section else [])
    if chunk.page is not None:
        parts.append(f"p. {chunk.page}")
    return " — ".join(parts)


def parse_reply(text: str) -> RagDraft | None:
    """The model's draft: JSON (possibly wrapped in prose or a fence), else None.

    >>> parse_reply('{"answerable": true, "answer": "Free [1]."}').answer
    'Free [1].'
    >>> parse_reply('```json\\n{"answerable": false}\\n```').answerable
    False
    >>> parse_reply("no idea") is None
    True
    """
    match = re.search(r"\{.*\}", text, re.S)
    if not match:
        return None
    try:
        return RagDraft.model_validate(json.loads(match.group(0)))
    except (ValueError, ValidationError):
        return None


_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def cited_numbers(answer: str) -> list[int]:
    """Passage numbers cited, in order of first citation.

    >>> cited_numbers("Free [2]. Wires cost $25 [1, 2][3].")
    [2, 1, 3]
    """
    seen: list[int] = []
    for group in _MARKER.findall(answer):
        for number in (int(n) for n in group.split(",")):
            if number not in seen:
                seen.append(number)
    return seen


def keep_markers(answer: str, valid: set[int]) -> str:
    """Drop citation numbers that name no passage shown; markers become [n][m].

    >>> keep_markers("Free [1, 7]. Odd [9].", {1, 2})
    'Free [1]. Odd.'
    """

    def rewrite(match: re.Match[str]) -> str:
        numbers = [int(n) for n in match.group(1).split(",") if int(n) in valid]
        return "".join(f"[{n}]" for n in numbers)

    text = _MARKER.sub(rewrite, answer)
    return re.sub(r"\s+([.,;:])", r"\1", text).strip()


def append_markers(answer: str, numbers: list[int]) -> str:
    """
    >>> append_markers("It is free.", [2, 1])
    'It is free [2][1].'
    >>> append_markers("It is free", [1])
    'It is free [1]'
    """
    markers = "".join(f"[{n}]" for n in numbers)
    text = answer.rstrip()
    if text.endswith((".", "!", "?")):
        return f"{text[:-1]} {markers}{text[-1]}"
    return f"{text} {markers}"


class RagAgent:
    def __init__(
        self,
        llm: BaseChatModel,
        index: PassageSearch,
        top_k: int = 5,
        *,
        min_similarity: float = MIN_SIMILARITY,
        min_rerank: float = MIN_RERANK,
    ):
        self.llm = _bound(llm)
        self.index = index
        self.top_k = top_k
        self.min_similarity = min_similarity
        self.min_rerank = min_rerank

    def relevant(self, passages: Sequence[Scored]) -> bool:
        """Is any passage close enough to the question to be worth the model's time? Decided
        on retrieval scores alone: the cross-encoder's when it ran, else cosine similarity."""
        reranked = [p.rerank_score for p in passages if p.rerank_score is not None]
        if reranked:
            return max(reranked) >= self.min_rerank
        return bool(passages) and max(p.similarity for p in passages) >= self.min_similarity

    async def retrieve(
        self, question: str, caller: Caller, filters: SearchFilters | None = None
    ) -> list[Passage]:
        # a rate card writes EUR/HUF where the question says "forint": search for the codes too
        written = codes_written(question)
        unwritten = [c for c in codes_named(question) if c not in written]
        query = " ".join([question, *unwritten])
        hits = await asyncio.to_thread(self.index.search, query, caller, self.top_k, filters)
        return [
            Passage(
                number=number,
                chunk=hit.chunk,
                score=hit.score,
                similarity=hit.similarity,
                rerank_score=hit.rerank_score,
            )
            for number, hit in enumerate(hits, start=1)
        ]

    def messages(self, question: str, passages: list[Passage], texts: dict[int, str]) -> list:
        """The prompt: `texts` are the passages as shown (`shown_texts`), by number."""
        shown = "\n\n".join(
            prompts.PASSAGE.format(
                number=p.number, source=source_line(p.chunk), text=texts[p.number]
            )
            for p in passages
        )
        return [
            SystemMessage(prompts.RAG_SYSTEM),
            HumanMessage(prompts.RAG_USER.format(passages=shown, question=question)),
        ]

    async def answer(
        self,
        question: str,
        caller: Caller,
        filters: SearchFilters | None = None,
        *,
        llm: BaseChatModel | None = None,
    ) -> RagOutcome:
        """`llm` overrides the agent's model for this question (the router's choice)."""
        passages = await self.retrieve(question, caller, filters)
        if not self.relevant(passages):
            log.info("no passage relevant enough for %r; declined without the model", question)
            return _declined(passages, "no_relevant_passages")
        texts = shown_texts(passages, question)
        held = [*texts.values(), *(source_line(p.chunk) for p in passages)]
        named = set().union(*map(names_written, held))
        if missing := unknown_words(question, held, named):
            log.info("declined %r without the model: no passage says %s", question, missing)
            answer = prompts.NOTHING_ON.format(words=", ".join(missing))
            return _declined(passages, "unknown_subject", answer)
        model = _bound(llm) if llm is not None else self.llm
        messages = self.messages(question, passages, texts)
        reply = await _reply(model, messages)
        first = parse_reply(reply)
        outcome = checked(first, question, passages, texts)
        if outcome.reason != "unsupported" or first is None:
            return outcome
        figures = ", ".join(sorted(invented(first.answer, texts, question)))
        log.info("figures %s are in no passage; asking once more, the failure named", figures)
        messages += [AIMessage(reply), HumanMessage(prompts.UNSUPPORTED.format(figures=figures))]
        retry = await _reply(model, messages)
        second = checked(parse_reply(retry), question, passages, texts)
        if second.reason != "unsupported":
            return second
        log.info("the second answer invents figures too; quoting the passages instead")
        return quoted(question, passages, texts, cited_numbers(first.answer) + first.citations)


async def _reply(model: Runnable, messages: list) -> str:
    """The model's reply text; "" when it ran out of tokens before its JSON was whole (the
    client raises for that), which reads as no answer."""
    try:
        return str((await model.ainvoke(messages)).content)
    except Exception as exc:
        if is_cut_off(exc):
            log.info("the model's answer reached %d tokens before it was whole", MAX_ANSWER_TOKENS)
            return ""
        raise


def checked(
    draft: RagDraft | None, question: str, passages: list[Passage], texts: dict[int, str]
) -> RagOutcome:
    """The model's draft as an answer whose citations name passages shown and hold its
    figures (`texts`: the passages as shown), or a decline saying why it cannot be passed on."""
    if draft is None or not draft.answerable or not draft.answer.strip():
        return _declined(passages, "model_declined")
    shown = {p.number for p in passages}
    answer = keep_markers(draft.answer, shown)
    inline = cited_numbers(answer)
    numbers = inline + [n for n in draft.citations if n in shown and n not in inline]
    if not numbers:
        log.info("the model's answer cites no passage shown: %.200r", draft.answer)
        return _declined(passages, "uncited")
    repaired = check_citations(answer, numbers, texts, question)
    if repaired is None:
        log.info("the model's answer states a figure no passage holds: %.200r", answer)
        return _declined(passages, "unsupported")
    if repaired != numbers:
        log.info("citations %s of %.120r moved to %s", numbers, answer, repaired)
        answer, numbers = append_markers(keep_markers(answer, set()), repaired), repaired
    elif not inline:  # listed but not marked: the markers go at the end of the answer
        answer = append_markers(answer, numbers)
    if echoes(answer, question, [texts[n] for n in numbers]):
        if any(_rules(question, passages[n - 1]) for n in numbers):
            log.info("the answer only restates the question; quoting the rule for its amount")
            return quoted(question, passages, texts, numbers)
        log.info("the answer only restates the question: %.200r", answer)
        return _declined(passages, "echo")
    return RagOutcome(answer=answer, citations=_citations(passages, numbers), passages=passages)


def quoted(
    question: str, passages: list[Passage], texts: dict[int, str], cited: list[int]
) -> RagOutcome:
    """The rule a cited passage states for the question's amount (`agents.rag.thresholds`),
    else the sentence of the cited passages (a table row counts as one) that shares most words
    with the question, quoted with its citation: what the documents say, in their own words,
    when the model twice stated figures they do not hold, or restated the question where the
    documents state the rule for its amount."""
    numbers = [n for n in cited if n in texts] or [passages[0].number]
    candidates = [(n, rule) for n in numbers for _, rule in _rules(question, passages[n - 1])]
    candidates = candidates or [
        (n, line) for n in numbers for line in sentences(_as_rows(passages[n - 1], question))
    ]
    number, sentence = max(candidates, key=lambda c: coverage(question, c[1]))
    return RagOutcome(
        answer=f"The documents say: \u201c{sentence}\u201d [{number}]",
        citations=_citations(passages, [number]),
        passages=passages,
        reason="quoted",
    )


def shown_texts(passages: list[Passage], question: str) -> dict[int, str]:
    """The passages as the model is shown them, by number: tables as rows
    (`agents.rag.tables`), and under a passage where the question's amounts fall among its own
    (`agents.rag.amounts`) and the rung of its ladder of thresholds they fall on
    (`agents.rag.thresholds`). What the answer is checked against."""
    texts = {}
    for p in passages:
        text = _as_rows(p, question)
        rungs = [prompts.RULE.format(amount=raw, rule=rule) for raw, rule in rules(question, text)]
        texts[p.number] = "\n".join(filter(None, [text, comparison(question, text), *rungs]))
    return texts


def _as_rows(passage: Passage, question: str) -> str:
    return as_rows(passage.chunk.text.strip(), question)


def _rules(question: str, passage: Passage) -> list[tuple[str, str]]:
    return rules(question, _as_rows(passage, question))


def _citations(passages: list[Passage], numbers: list[int]) -> list[Citation]:
    return [
        Citation(
            number=n,
            chunk_id=passages[n - 1].chunk.id,
            document_id=passages[n - 1].chunk.document_id,
            title=passages[n - 1].chunk.title,
            section=passages[n - 1].chunk.section,
            page=passages[n - 1].chunk.page,
        )
        for n in numbers
    ]


def _bound(llm: BaseChatModel):
    return llm.bind(response_format=RESPONSE_FORMAT, max_tokens=MAX_ANSWER_TOKENS)


def _declined(passages: list[Passage], reason: str, answer: str = prompts.DECLINE) -> RagOutcome:
    return RagOutcome(answer=answer, passages=passages, declined=True, reason=reason)
