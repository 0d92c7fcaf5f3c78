"""English predicate-argument frames from the spaCy dependency parse.

A rule-based stand-in for semantic role labelling: ARG0 (agent), ARG1 (patient/theme),
ARG2 (recipient, or the first prepositional argument), ARGM-TMP / -LOC / -MNR / -NEG.
Handled: passive voice (the "by" agent is ARG0, the subject ARG1), relative clauses and
participles (the relative pronoun or missing argument is the modified noun), coordinated
verbs (shared subject and object) and arguments (one frame per conjunct), copulas, and
"X is the N of Y" / "X, the N of Y" (predicate "N of").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.tokens import Span, Token

_PREDICATE_DEPS = frozenset(
    {"ROOT", "conj", "relcl", "advcl", "ccomp", "xcomp", "acl", "pcomp", "parataxis"}
)
# Verbs in these relations take their missing subject from the verb they attach to.
_INHERIT_SUBJECT = frozenset({"conj", "xcomp", "advcl", "pcomp"})
_RELATIVE = frozenset({"who", "whom", "which", "that", "whose"})
_CUT_DEPS = frozenset({"relcl", "acl", "appos", "advcl", "parataxis"})
_TMP_PREPS = frozenset({"during", "since", "until", "till", "before", "after", "throughout"})
_LOC_PREPS = frozenset({"in", "at", "on", "near", "inside", "outside", "across", "within"})
_TMP_LABELS = frozenset({"DATE", "TIME"})
_LOC_LABELS = frozenset({"GPE", "LOC", "FAC"})
_MAX_CONJUNCTS = 4


@dataclass
class Frame:
    predicate: str
    arg0: str | None
    arg1: str | None
    args: dict[str, str] = field(default_factory=dict)
    negated: bool = False


@dataclass
class _Roles:
    arg0: list[Token] = field(default_factory=list)
    arg1: list[Token] = field(default_factory=list)
    arg1_text: str | None = None  # clausal ARG1 ("said that ...")
    args: dict[str, str] = field(default_factory=dict)
    negated: bool = False
    predicate: str = ""


def sentence_frames(sent: Span) -> list[Frame]:
    """All frames of one parsed sentence, in token order."""
    frames: list[Frame] = []
    for token in sent:
        if _is_predicate(token):
            frames.extend(_frames_for(token))
        elif token.dep_ == "appos" and token.pos_ in ("NOUN", "PROPN"):
            frames.extend(_appositive_frames(token))
    return frames


def _is_predicate(token: Token) -> bool:
    if token.dep_ not in _PREDICATE_DEPS:
        return False
    if token.pos_ == "VERB":
        return True
    # A copula heads its clause in spaCy's scheme: "X is Y" has "is" as ROOT.
    return token.pos_ == "AUX" and any(c.dep_ in ("attr", "acomp") for c in token.children)


def _frames_for(verb: Token) -> Iterator[Frame]:
    roles = _roles(verb)
    if not roles.arg0 and not roles.arg1 and roles.arg1_text is None:
        return
    arg0s: list[Token | None] = [*_with_conjuncts(roles.arg0)] or [None]
    arg1s: list[Token | str | None] = (
        [*_with_conjuncts(roles.arg1)] or [roles.arg1_text]
    )
    for a0, a1 in product(arg0s, arg1s):
        yield Frame(
            predicate=roles.predicate,
            arg0=None if a0 is None else arg_text(a0),
            arg1=a1 if a1 is None or isinstance(a1, str) else arg_text(a1),
            args=dict(roles.args),
            negated=roles.negated,
        )


def _roles(verb: Token) -> _Roles:
    roles = _Roles(predicate=_predicate(verb))
    passive = _is_passive(verb)
    preps: list[Token] = []
    bare_nouns: list[Token] = []  # the parser's misreading of a second object
    for child in verb.children:
        dep = child.dep_
        if dep in ("nsubj", "csubj"):
            roles.arg0.append(child)
        elif dep in ("nsubjpass", "csubjpass"):
            roles.arg1.append(child)
        elif dep == "agent":
            roles.arg0.extend(c for c in child.children if c.dep_ == "pobj")
        elif dep in ("dobj", "attr", "acomp"):
            if passive:  # "was given a prize": the remaining object
                _set(roles.args, "ARG2", arg_text(child))
            else:
                roles.arg1.append(child)
        elif dep in ("dative", "oprd"):
            _set(roles.args, "ARG2", _dative_text(child))
        elif dep in ("ccomp", "xcomp") and roles.arg1_text is None:
            roles.arg1_text = span_text(list(child.subtree))
        elif dep == "neg":
            roles.negated = True
            roles.args["ARGM-NEG"] = child.text
        elif dep == "prep":
            preps.append(child)
        elif dep in ("npadvmod", "advmod"):
            _modifier(roles, child)
            if dep == "npadvmod" and child.pos_ == "NOUN" and not child.ent_type_:
                bare_nouns.append(child)
    if not roles.arg1 and "ARG2" in roles.args and bare_nouns:
        roles.arg1.append(bare_nouns[0])  # "gave her brother a book"
    _fill_from_context(verb, roles, passive)
    _of_phrase(verb, roles)
    for prep in preps:
        _prep_argument(verb, roles, prep)
    return roles


def _is_passive(verb: Token) -> bool:
    deps = {c.dep_ for c in verb.children}
    if deps & {"nsubjpass", "csubjpass", "auxpass", "agent"}:
        return True
    if verb.tag_ != "VBN":
        return False
    if verb.dep_ == "acl":  # "a journal published by ..."
        return True
    # "was arrested and charged": a bare participle coordinated with a passive verb
    return verb.dep_ == "conj" and not deps & {"aux", "nsubj"} and _is_passive(verb.head)


def _set(args: dict[str, str], key: str, value: str) -> None:
    if value and key not in args:
        args[key] = value


def _dative_text(token: Token) -> str:
    pobj = [c for c in token.children if c.dep_ == "pobj"]
    return arg_text(pobj[0]) if token.pos_ == "ADP" and pobj else arg_text(token)


def _predicate(verb: Token) -> str:
    lemma = verb.lemma_.lower() or verb.text.lower()
    particles = [c.text.lower() for c in verb.children if c.dep_ == "prt"]
    return " ".join([lemma, *particles])


def _modifier(roles: _Roles, token: Token) -> None:
    if token.ent_type_ in _TMP_LABELS:
        _set(roles.args, "ARGM-TMP", span_text(list(token.subtree)))
    elif token.dep_ == "advmod" and token.text.lower().endswith("ly") and token.pos_ == "ADV":
        _set(roles.args, "ARGM-MNR", token.text)


def _fill_from_context(verb: Token, roles: _Roles, passive: bool) -> None:
    """Missing arguments from the clause around: a coordinated verb's object ("founded and
    led the APA"), the noun a relative clause or participle modifies, and the subject of
    the verb a coordinated or controlled verb attaches to."""
    complements = {"dobj", "prep", "attr", "acomp", "ccomp", "xcomp", "dative", "agent"}
    if not any(c.dep_ in complements for c in verb.children):
        for conj in verb.children:
            if conj.dep_ == "conj" and conj.pos_ == "VERB" and not _subjects(conj):
                roles.arg1.extend(c for c in conj.children if c.dep_ == "dobj")
                break
    head = verb.head
    if verb.dep_ in ("relcl", "acl") and head.pos_ in ("NOUN", "PROPN", "PRON"):
        noun = head.head if head.dep_ == "appos" else head
        _resolve_relative(verb, roles, noun, passive)
    elif verb.dep_ in _INHERIT_SUBJECT and not (roles.arg1 if passive else roles.arg0):
        source = head
        while source.dep_ in _INHERIT_SUBJECT and not _subjects(source):
            if source.head.i == source.i:
                break
            source = source.head
        if passive:
            roles.arg1.extend(_patients(source))
        else:
            roles.arg0.extend(_roles_subjects(source))


def _subjects(verb: Token) -> list[Token]:
    return [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass", "csubj")]


def _roles_subjects(verb: Token) -> list[Token]:
    """The grammatical subject of `verb` (relative pronouns resolved): a verb coordinated
    with a passive shares its subject, not its agent ("was directed by Y and won Z")."""
    subjects = _subjects(verb)
    if verb.dep_ in ("relcl", "acl"):
        subjects = [verb.head if s.lower_ in _RELATIVE else s for s in subjects] or [verb.head]
    return subjects


def _patients(verb: Token) -> list[Token]:
    """What a passive verb's subject is: the subject of a passive, or of any verb
    (a coordinated passive shares it: "was arrested and charged")."""
    subjects = [c for c in verb.children if c.dep_ in ("nsubjpass", "nsubj")]
    if verb.dep_ in ("relcl", "acl"):
        subjects = [verb.head if s.lower_ in _RELATIVE else s for s in subjects] or [verb.head]
    return subjects


def _resolve_relative(verb: Token, roles: _Roles, noun: Token, passive: bool) -> None:
    def swap(tokens: list[Token]) -> list[Token]:
        return [noun if t.lower_ in _RELATIVE else t for t in tokens]

    had_relative = any(t.lower_ in _RELATIVE for t in [*roles.arg0, *roles.arg1])
    roles.arg0 = swap(roles.arg0)
    roles.arg1 = swap(roles.arg1)
    if had_relative:
        return
    if any(c.lower_ in ("where",) for c in verb.children):
        _set(roles.args, "ARGM-LOC", arg_text(noun))
        return
    if any(c.lower_ in ("when",) for c in verb.children):
        _set(roles.args, "ARGM-TMP", arg_text(noun))
        return
    if passive and not roles.arg1:
        roles.arg1.append(noun)  # "a journal published by the APA"
    elif not roles.arg0 and verb.tag_ in ("VBG", "VB"):
        roles.arg0.append(noun)  # "a man living in Paris", "the first to climb it"
    elif not roles.arg1 and roles.arg0:
        roles.arg1.append(noun)  # "the book he wrote"
    elif not roles.arg0:
        roles.arg0.append(noun)


def _of_phrase(verb: Token, roles: _Roles) -> None:
    """"X is the president of Y" -> predicate "president of", ARG1 Y."""
    if verb.lemma_ != "be" or len(roles.arg1) != 1:
        return
    attr = roles.arg1[0]
    if attr.dep_ != "attr" or attr.pos_ != "NOUN":
        return
    of = next((c for c in attr.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    pobj = next((c for c in of.children if c.dep_ == "pobj"), None) if of is not None else None
    if pobj is not None:
        roles.predicate = f"{attr.lemma_.lower()} of"
        roles.arg1 = [pobj]


def _appositive_frames(noun: Token) -> Iterator[Frame]:
    """"Hall, the president of the APA, ..." -> (Hall, president of, the APA)."""
    of = next((c for c in noun.children if c.dep_ == "prep" and c.lower_ == "of"), None)
    if of is None or noun.pos_ != "NOUN":
        return
    for pobj in _with_conjuncts([c for c in of.children if c.dep_ == "pobj"]):
        yield Frame(f"{noun.lemma_.lower()} of", arg_text(noun.head), arg_text(pobj))


def _prep_argument(verb: Token, roles: _Roles, prep: Token) -> None:
    pobj = next((c for c in prep.children if c.dep_ in ("pobj", "pcomp")), None)
    if pobj is None:
        return
    word = prep.lower_
    text = arg_text(pobj)
    if pobj.ent_type_ in _TMP_LABELS or word in _TMP_PREPS or _is_year(pobj):
        _set(roles.args, "ARGM-TMP", f"{prep.text} {text}")
    elif not roles.arg1 and roles.arg1_text is None and roles.arg0 and word != "by":
        # "studied at Harvard": the first prepositional object completes the predicate
        roles.predicate = f"{roles.predicate} {word}"
        roles.arg1.append(pobj)
    elif pobj.ent_type_ in _LOC_LABELS and word in _LOC_PREPS:
        _set(roles.args, "ARGM-LOC", f"{prep.text} {text}")
    elif word in ("with", "by") and "ARGM-MNR" not in roles.args:
        _set(roles.args, "ARGM-MNR", f"{prep.text} {text}")
    else:
        _set(roles.args, "ARG2", f"{prep.text} {text}")


def _is_year(token: Token) -> bool:
    return token.like_num and len(token.text) == 4 and token.text.isdigit()


def _with_conjuncts(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        if token.pos_ in ("NOUN", "PROPN"):
            out.extend(c for c in token.conjuncts if c.i > token.i)
    return out[:_MAX_CONJUNCTS]


def arg_text(head: Token) -> str:
    """The phrase headed by `head`: its subtree without relative clauses, participles,
    appositives and adverbial clauses, and without its own conjuncts."""
    cut: set[int] = set()
    for token in head.subtree:
        if token.i in cut:
            continue
        if token.i != head.i and (
            (token.dep_ in _CUT_DEPS and not _close_apposition(token))
            or (token.head.i == head.i and token.dep_ in ("conj", "cc"))
        ):
            cut.update(t.i for t in token.subtree)
    kept = [t for t in head.subtree if t.i not in cut]
    # keep the contiguous run around the head only
    run = [head]
    by_index = {t.i: t for t in kept}
    i = head.i - 1
    while i in by_index:
        run.insert(0, by_index[i])
        i -= 1
    i = head.i + 1
    while i in by_index:
        run.append(by_index[i])
        i += 1
    return span_text(run)


def _close_apposition(token: Token) -> bool:
    """A name right after its noun, no comma between: "the engineer Gustave Eiffel"."""
    return token.dep_ == "appos" and token.pos_ == "PROPN" and token.i > 0 and (
        token.doc[token.left_edge.i - 1].i == token.head.i
    )


def span_text(tokens: list[Token]) -> str:
    tokens = sorted(tokens, key=lambda t: t.i)
    while tokens and (tokens[0].is_punct or tokens[0].dep_ in ("cc", "mark")):
        tokens = tokens[1:]
    while tokens and tokens[-1].is_punct and tokens[-1].text not in (")", '"'):
        tokens = tokens[:-1]
    if not tokens:
        return ""
    # The span's own text: Doc.text would join every token of the document to cut it.
    return tokens[0].doc[tokens[0].i : tokens[-1].i + 1].text
