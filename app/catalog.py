"""Load and validate the persona cards, the technique catalogue and the move patterns.

Everything the simulator says or looks for lives in YAML under `personas/` and `prompts/`;
this module turns those files into checked pydantic objects, so a broken card fails at
start-up with its file, field and reason instead of half-way through a session.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Language = Literal["it", "en"]
LANGUAGES: tuple[Language, ...] = ("it", "en")
Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
Outcome = Literal["agreement", "dismissed", "walked_away", "turn_limit", "ended_by_trainee"]
SUCCESS_OUTCOMES = frozenset({"agreement", "dismissed"})
Phase = Literal["opening", "exploring", "testing", "closing"]
Mood = Literal["warm", "neutral", "cold"]

# Beats every card must script: the director falls back on them whatever the persona.
REQUIRED_BEATS = (
    "opening",
    "answer_question",
    "react_advice",
    "react_soft",
    "react_hard",
    "neutral",
    "walk_away",
    "agreement",
    "turn_limit",
)

# The C loader reads the cards ten times faster; same result, safe subset of YAML.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ROOT = Path(__file__).resolve().parent.parent
PERSONAS_DIR = ROOT / "personas"
PROMPTS_DIR = ROOT / "prompts"

M = TypeVar("M", bound=BaseModel)
ID = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text given in every supported language."""

    it: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __call__(self, lang: Language) -> str:
        return getattr(self, lang)


class TextList(Strict):
    it: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)

    def __call__(self, lang: Language) -> list[str]:
        return getattr(self, lang)


@lru_cache(maxsize=64)  # a turn folds the trainee's message once for every tagged line
def fold(text: str) -> str:
    """Text as topic keywords are matched: lower case, accents and apostrophes' shapes
    ignored, so "perché", "Perche" and "PERCHÉ" are the same word, and so are "l'" and "l’"."""
    plain = unicodedata.normalize("NFKD", text.replace("\u2019", "'").casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


# A topic keyword: plain words (letters or digits), joined by single spaces, hyphens or
# apostrophes. Nothing of a regex: "figli" is a stem, "figli*" or "figl(i|o)" is refused.
_KEYWORD = re.compile(r"[^\W_]+(?:(?: |-|')[^\W_]+)*")
MIN_KEYWORD = 3  # shorter stems ("di", "un") would match almost any message


def _keyword(keyword: str) -> str:
    """A keyword as a regex: folded, escaped, any run of blanks between its words."""
    return re.escape(fold(keyword)).replace(r"\ ", r"\s+")


class Texts(Strict):
    """One string or several in every language (a card may write one as a plain string)."""

    it: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)

    @field_validator("it", "en", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Topics(Texts):
    """What a line talks about (`about`): keywords or word stems in every language. The
    line answers a trainee message holding a word that begins with one of them
    ("figli" matches "figli" and "figlio"; "decision" matches "decisions")."""

    @field_validator("it", "en")
    @classmethod
    def _plain_words(cls, value: list[str]) -> list[str]:
        for keyword in value:
            if not keyword.strip():
                raise ValueError("a keyword is empty")
            if not _KEYWORD.fullmatch(keyword.replace("\u2019", "'")):
                raise ValueError(
                    f"{keyword!r} is not a plain word or stem: letters and digits, words "
                    "joined by a single space, hyphen or apostrophe (no regex, no wildcards, "
                    "no spaces or punctuation around it)"
                )
            if len(keyword) < MIN_KEYWORD:
                raise ValueError(
                    f"{keyword!r} is too short: a keyword needs at least {MIN_KEYWORD} "
                    "characters, or it matches almost any message"
                )
        return value

    @cached_property
    def patterns(self) -> dict[Language, re.Pattern[str]]:
        """One regex a language: any keyword at the start of a word (a stem or a whole word)."""
        return {
            lang: re.compile(rf"(?<!\w)(?:{'|'.join(map(_keyword, getattr(self, lang)))})")
            for lang in LANGUAGES
        }

    @cached_property
    def keyword_patterns(self) -> dict[Language, list[tuple[int, re.Pattern[str]]]]:
        """A language's keywords, each as (its number of words, its regex), most words first."""
        return {
            lang: sorted(
                (
                    (len(k.split()), re.compile(rf"(?<!\w){_keyword(k)}"))
                    for k in getattr(self, lang)
                ),
                key=lambda pair: -pair[0],
            )
            for lang in LANGUAGES
        }

    def matches(self, text: str, lang: Language) -> bool:
        """Whether `text` (a trainee message) talks about this, in `lang`."""
        return self.score(text, lang) > 0

    def score(self, text: str, lang: Language) -> int:
        """How specifically `text` talks about this, in `lang`: 0 when no keyword matches,
        else the number of words of the longest keyword that matches. A phrase ("every
        week", "how long will it take") is more specific than a single word or stem, which
        all count the same ("achieve" no more than "child")."""
        if not text:
            return 0
        folded = fold(text)
        if self.patterns[lang].search(folded) is None:  # one search for most lines
            return 0
        return next((n for n, pattern in self.keyword_patterns[lang] if pattern.search(folded)), 0)


class Restatement(Texts):
    """An answer said again (`Line.again`): one message or several, in every language."""

    @field_validator("it", "en")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not all(text.strip() for text in value):
            raise ValueError("a message is empty")
        return value

    def messages(self, lang: Language) -> list[str]:
        return getattr(self, lang)


class Line(Strict):
    """One thing the client can say: one message, or a burst of several."""

    it: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)
    mood: Mood | None = None
    phase: list[Phase] | None = None
    about: Topics | None = None  # what the line answers: preferred when the trainee asks it
    # beats that, once the client has said them in the session, this line would contradict
    # ("what do we do with the shares?" once he has told you he sold them): not said after them
    not_after: list[str] = []
    # a question of the client's that the trainee may already have answered ("hashtags, yes or
    # no?" once told "use 3-5 hashtags"): not asked once a trainee message of the session
    # talks about it
    answered_by: Topics | None = None
    # how the client says this answer when its topic comes back and he has nothing new to say
    # ("Te l'ho detto: i figli…"): said instead of the line, which is never said twice word for
    # word; without it the actor puts a "come dicevo…" of prompts/texts.yaml before the line
    again: Restatement | None = None

    @field_validator("it", "en", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _same_shape(self) -> Line:
        if len(self.it) != len(self.en):
            raise ValueError("'it' and 'en' must hold the same number of messages")
        if self.again is not None and self.about is None:
            raise ValueError(
                "'again' is said when the line's topic is asked about again: the line needs "
                "an 'about'"
            )
        return self

    def messages(self, lang: Language) -> list[str]:
        return getattr(self, lang)


class Bound(Strict):
    min: float | None = None
    max: float | None = None

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Trigger(Strict):
    """A persona rule: when the trainee's moves and the meters match, the client plays `beat`."""

    id: ID
    any_moves: list[str] = []  # at least one of these moves in the trainee's message
    all_moves: list[str] = []  # every one of these moves in the trainee's message
    no_moves: list[str] = []  # none of these ("I'm sure" that the message then takes back)
    meters: dict[str, Bound] = {}  # meter conditions, checked after this turn's effects
    min_turn: int = 1
    max_times: int | None = None
    after_beat: str | None = None  # only if the client's previous beat was this one
    beat: str
    next_beat: str | None = None  # scheduled for the following turn (e.g. agree, then sell)
    effects: dict[str, float] = {}  # extra meter changes when the rule fires
    end: Outcome | None = None
    # A rule with no move conditions is scheduled (a timed beat): when the trainee has just
    # asked a question, the client answers it first, then plays the beat in the same turn.
    # `false` for a client who talks over the question (his beat shows he does).
    answer_first: bool = True

    @model_validator(mode="after")
    def _answer_first_scheduled(self) -> Trigger:
        if not self.answer_first and (self.any_moves or self.all_moves):
            raise ValueError(
                "answer_first applies only to a rule with no any_moves/all_moves (a scheduled "
                "beat); a rule answering the trainee's moves already answers the message"
            )
        return self


class Burst(Strict):
    """Extra messages sent in a row when a meter is high (the anxious client's floods)."""

    meter: str
    min: float
    beat: str
    max_extra: int = Field(ge=1, le=5)


class DifficultyLevel(Strict):
    description: Text
    meters: dict[str, float]  # initial value of every meter
    turn_limit: int = Field(ge=4, le=60)
    patience_decay: float = Field(ge=0, le=20)  # patience lost every turn, whatever is said
    soften: float = Field(gt=0, le=3)  # multiplier on positive meter changes
    harden: float = Field(gt=0, le=3)  # multiplier on negative meter changes


class Persona(Strict):
    id: ID
    source: list[Annotated[str, Field(pattern=r"^\d{3}$")]] = Field(min_length=1)
    name: Text
    title: Text  # a short label for cards and lists
    situation: Text
    trainee_role: Text
    personality: Text
    goal: Text  # what the trainee should try to achieve
    signature_behaviours: TextList
    softened_by: TextList
    hardened_by: TextList
    walk_away_rules: TextList
    techniques: list[ID] = Field(min_length=2)
    meters: list[ID] = Field(min_length=2)  # trust and patience, plus persona-specific ones
    difficulty: dict[Difficulty, DifficultyLevel]
    reactions: dict[str, dict[str, float]] = {}  # move → meter changes (overrides the default)
    walk_away: dict[str, Bound] = {}  # any meter out of bound ends with `walked_away`
    agreement: dict[str, Bound] = {}  # all bounds hold (from the testing phase on) → agreement
    triggers: list[Trigger] = []
    burst: Burst | None = None
    phrasings: dict[str, Text] = {}  # technique → a better phrasing for this client
    lines: dict[str, list[Line]]

    @cached_property
    def worse_when_higher(self) -> frozenset[str]:
        """Meters such as anxiety or hurt: bounded from above for walking away or agreeing,
        so a rise hardens the client (difficulty scales it with `harden`, not `soften`)."""
        bounds = (*self.walk_away.items(), *self.agreement.items())
        plain = ("trust", "patience")
        return frozenset(m for m, b in bounds if b.max is not None and m not in plain)

    @model_validator(mode="after")
    def _consistent(self) -> Persona:
        if missing := set(DIFFICULTIES) - set(self.difficulty):
            raise ValueError(f"difficulty levels missing: {sorted(missing)}")
        for must in ("trust", "patience"):
            if must not in self.meters:
                raise ValueError(f"meters must include '{must}'")
        for level, spec in self.difficulty.items():
            if set(spec.meters) != set(self.meters):
                raise ValueError(
                    f"difficulty.{level}.meters must set exactly {self.meters}, "
                    f"got {sorted(spec.meters)}"
                )
        if missing := [b for b in REQUIRED_BEATS if not self.lines.get(b)]:
            raise ValueError(f"lines missing for beats: {missing}")
        beats = set(self.lines)
        used = {t.beat for t in self.triggers} | {t.next_beat for t in self.triggers if t.next_beat}
        if self.burst:
            used.add(self.burst.beat)
        if missing := sorted(used - beats):
            raise ValueError(f"beats used by triggers/burst have no lines: {missing}")
        for beat, lines in self.lines.items():
            for n, line in enumerate(lines):
                if unknown := sorted(set(line.not_after) - beats):
                    raise ValueError(
                        f"lines.{beat}[{n}].not_after names beats with no lines: {unknown}"
                    )
            if lines and all(beat in line.not_after for line in lines):
                raise ValueError(
                    f"lines.{beat}: every line has '{beat}' in not_after, so the beat has "
                    "nothing left to say the second time: keep at least one line without it"
                )
        meters = set(self.meters)
        referenced = set(self.walk_away) | set(self.agreement)
        referenced |= {m for t in self.triggers for m in (*t.meters, *t.effects)}
        referenced |= {m for effects in self.reactions.values() for m in effects}
        if self.burst:
            referenced.add(self.burst.meter)
        if unknown := sorted(referenced - meters):
            raise ValueError(f"unknown meters referenced: {unknown}")
        ids = [t.id for t in self.triggers]
        if len(ids) != len(set(ids)):
            raise ValueError("trigger ids must be unique")
        return self


class Cues(Strict):
    """What a technique looks like: move ids (a+b means both in one message) and human text."""

    moves: list[str] = []
    text: TextList


class Technique(Strict):
    id: ID
    source: list[Annotated[str, Field(pattern=r"^\d{3}$")]] = Field(min_length=1)
    name: Text
    description: Text
    cues: Cues
    anti_patterns: Cues
    min_hits: int = Field(default=1, ge=1)  # messages with a cue needed for `applied`
    # What an anti-pattern with no cue means: the technique's opposite done (`violated`), or,
    # where coaches read it as the technique left undone (lecturing instead of asking for a
    # view), `missed`; the quote is shown either way.
    slip_verdict: Literal["violated", "missed"] = "violated"
    # Client text that makes the technique relevant: when set, never seen, and the trainee shows
    # neither a cue nor an anti-pattern → not_applicable.
    context: dict[Language, list[str]] | None = None
    better_phrasing: Text

    @field_validator("context")
    @classmethod
    def _regexes(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        for pattern in (p for ps in (value or {}).values() for p in ps):
            re.compile(pattern)
        return value


def counted(key: str, count: object, known: Container[str]) -> str:
    """`key_one` when `count` is 1 and there is such a text ("one message", not "1 messages");
    the pages' strings and the grader's sentences follow the same rule."""
    return f"{key}_one" if count == 1 and f"{key}_one" in known else key


def alternation(patterns: list[str] | tuple[str, ...]) -> str:
    """Several regexes as one: matches where any of them does."""
    return "|".join(f"(?:{p})" for p in patterns)


class Move(Strict):
    """A trainee move the detectors find, with its default effect on the client's meters."""

    id: ID
    description: str
    effects: dict[str, float] = {}
    patterns: dict[Language, list[str]]

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang in LANGUAGES:
            if not value.get(lang):
                raise ValueError(f"patterns for '{lang}' missing")
        for pattern in (p for ps in value.values() for p in ps):
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ValueError(f"bad regex {pattern!r}: {exc}") from exc
        for lang, patterns in value.items():
            try:
                re.compile(alternation(patterns), re.IGNORECASE)
            except re.error as exc:  # e.g. a flag like (?i) that is only valid at the start
                msg = f"the '{lang}' patterns do not combine into one regex: {exc}"
                raise ValueError(msg) from exc
        return value


class CatalogError(Exception):
    """A card or catalogue file is broken; the message names the file, the field and why."""


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)

    personas: dict[str, Persona]
    techniques: dict[str, Technique]
    moves: dict[str, Move]
    texts: dict[str, dict[str, Text]]  # prompts/texts.yaml: grader and UI sentences

    @cached_property
    def persona_list(self) -> list[Persona]:
        return sorted(self.personas.values(), key=lambda p: (p.source[0], p.id))


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read YAML: {exc}") from exc


def _explain(path: Path, exc: ValidationError) -> CatalogError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
        for err in exc.errors()
    )
    return CatalogError(f"{path}: {problems}")


def _parse(model: type[M], data: object, path: Path) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from exc


def load_catalog(personas_dir: Path = PERSONAS_DIR, prompts_dir: Path = PROMPTS_DIR) -> Catalog:
    """Read every card and catalogue file, and check that they refer to each other correctly."""
    moves_path = prompts_dir / "moves.yaml"
    moves = {m.id: m for m in (_parse(Move, d, moves_path) for d in _list(moves_path))}
    tech_path = prompts_dir / "techniques.yaml"
    techniques = {t.id: t for t in (_parse(Technique, d, tech_path) for d in _list(tech_path))}
    for technique in techniques.values():
        for field in ("cues", "anti_patterns"):
            for combo in getattr(technique, field).moves:
                if unknown := [m for m in combo.split("+") if m not in moves]:
                    raise CatalogError(
                        f"{tech_path}: {technique.id}.{field}.moves: unknown moves {unknown}"
                    )
    texts_path = prompts_dir / "texts.yaml"
    raw_texts = _read_yaml(texts_path)
    if not isinstance(raw_texts, dict):
        raise CatalogError(f"{texts_path}: expected a mapping of sections")
    texts = {
        section: {key: _parse(Text, value, texts_path) for key, value in (entries or {}).items()}
        for section, entries in raw_texts.items()
    }
    personas: dict[str, Persona] = {}
    for path in sorted(personas_dir.glob("*.yaml")):
        persona = read_card(path, techniques, moves)
        personas[persona.id] = persona
    if not personas:
        raise CatalogError(f"{personas_dir}: no persona cards (*.yaml) found")
    return Catalog(personas=personas, techniques=techniques, moves=moves, texts=texts)


def read_card(
    path: Path, techniques: Mapping[str, Technique], moves: Mapping[str, Move]
) -> Persona:
    """One persona card, checked on its own and against the techniques and moves it names."""
    persona = _parse(Persona, _read_yaml(path), path)
    if persona.id != path.stem:
        raise CatalogError(f"{path}: id '{persona.id}' must match the file name")
    problems = [f"techniques: unknown {t!r}" for t in persona.techniques if t not in techniques]
    problems += [f"phrasings: unknown {t!r}" for t in persona.phrasings if t not in techniques]
    problems += [f"reactions: unknown move {m!r}" for m in persona.reactions if m not in moves]
    for trig in persona.triggers:
        for m in (*trig.any_moves, *trig.all_moves, *trig.no_moves):
            if m not in moves:
                problems.append(f"triggers.{trig.id}: unknown move {m!r}")
    if problems:
        raise CatalogError(f"{path}: " + "; ".join(problems))
    return persona


def _list(path: Path) -> list[object]:
    data = _read_yaml(path)
    if not isinstance(data, list):
        raise CatalogError(f"{path}: expected a list at the top level")
    return data
