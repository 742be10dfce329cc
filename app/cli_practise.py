"""`sparring practise`: talk with a client in the terminal, then read the report card.

In memory with this machine's engines, nothing stored (for trying a card while writing it),
or with --url and --token on a server, which stores the session as the chat page does (a
coach sees it on the desk). Both print the client's words as they come.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from app import cli_common as common
from app.cli_options import LangOption
from app.engine.actors import Reply
from app.engine.grader import HEURISTIC_GRADER, Criterion, GradeResult, for_outcome

if TYPE_CHECKING:
    import httpx

    from app.catalog import Catalog, Persona
    from app.engines import Engine
    from app.web.i18n import Translator

END_COMMAND = "/end"
Listener = Callable[[str | None], None]  # a piece of the client's text; None ends a message


@dataclass
class Answer:
    """What one trainee message caused: the client's meters after it, and whether the
    client ended the session (and how)."""

    meters: dict[str, float]
    outcome: str | None


class Conversation(Protocol):
    lang: str  # the conversation's, and the labels' around it
    meters: dict[str, float]

    def introduce(self) -> list[str]: ...  # the client's name and title, the trainee's role, goal

    def open(self, listen: Listener) -> None: ...  # `listen` hears every reply from now on

    def say(self, text: str) -> Answer | str: ...  # str: why it failed

    def end(self) -> GradeResult | str | None: ...  # None: nothing said, nothing to grade

    def leave(self) -> str | None: ...  # where an unfinished session stays open, if stored


# ---------------------------------------------------------------- in memory


class InMemory:
    def __init__(
        self,
        catalog: Catalog,
        persona: Persona,
        engine: Engine,
        lang: str,
        level: str,
        seed: int,
        max_chars: int,
    ) -> None:
        self.catalog, self.persona, self.engine, self.lang = catalog, persona, engine, lang
        self.level, self.seed, self.max_chars = level, seed, max_chars
        self.meters: dict[str, float] = {}
        self.listen: Listener = lambda _: None

    def introduce(self) -> list[str]:
        p, lang = self.persona, self.lang
        texts = (p.name, p.title, p.trainee_role, p.goal)
        return [text(lang) for text in texts]  # type: ignore[arg-type]

    def _event(self, item: str | Reply) -> None:
        self.listen(None if isinstance(item, Reply) else item)

    def open(self, listen: Listener) -> None:
        from app.engine.llm import LLMError
        from app.engine.script import Rehearsal

        self.listen = listen
        try:
            self.session = Rehearsal(
                catalog=self.catalog,
                persona=self.persona,
                language=self.lang,  # type: ignore[arg-type]
                difficulty=self.level,  # type: ignore[arg-type]
                seed=self.seed,
                actor=self.engine.actor,
                on_event=self._event,
            )
        except LLMError as exc:
            raise PractiseError(f"the client could not open: {exc}") from exc
        self.meters = dict(self.session.state.meters)

    def say(self, text: str) -> Answer | str:
        from app.engine.llm import LLMError
        from app.models import visible

        if not visible(text):  # the server's rules, so a card behaves here as it will there
            return "the message is empty (only blanks or invisible characters)"
        if len(text) > self.max_chars:
            return f"the message is {len(text)} characters long; the limit is {self.max_chars}"
        try:
            turn = self.session.say(text)
        except LLMError as exc:
            return f"{exc}: say it again to retry"
        self.meters = dict(turn.meters)
        return Answer(self.meters, turn.state.outcome)

    def end(self) -> GradeResult | str | None:
        from app.engine.llm import LLMError
        from app.engine.llm_grader import GradeFailed

        if not any(m.role == "trainee" for m in self.session.transcript):
            return None
        try:
            result = self.engine.grader.grade(
                catalog=self.catalog,
                persona=self.persona,
                language=self.lang,  # type: ignore[arg-type]
                messages=self.session.transcript,
                calls=[],
            )
            outcome = self.session.state.outcome
            return for_outcome(self.catalog, self.lang, result, outcome)  # type: ignore[arg-type]
        except (LLMError, GradeFailed) as exc:
            return f"grading failed: {exc}"

    def leave(self) -> str | None:
        return None


# ---------------------------------------------------------------- on a server


class OnServer:
    def __init__(self, client: httpx.Client, body: dict[str, Any]) -> None:
        self.client, self.body, self.lang = client, body, body["language"]
        self.listen: Listener = lambda _: None
        self.meters: dict[str, float] = {}
        self.session_id = ""

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response, 4xx included; a network failure raises PractiseError."""
        import httpx

        try:
            return self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise PractiseError(f"cannot reach {self.client.base_url}: {exc}") from exc

    def _ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON of a successful answer; PractiseError with the server's words otherwise."""
        response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise PractiseError(_refusal(response))
        return response.json()

    def introduce(self) -> list[str]:
        lang = {"lang": self.body["language"]}
        card = self._ok("GET", f"/api/personas/{self.body['persona_id']}", params=lang)
        return [card["name"], card["title"], card["trainee_role"], card["goal"]]

    def open(self, listen: Listener) -> None:
        self.listen = listen
        data = self._ok("POST", "/api/sessions", json=self.body)
        self.session_id = data["session"]["id"]
        self.meters = data["session"]["state"]["meters"]
        for message in data["messages"]:
            listen(message["content"])
            listen(None)

    def say(self, text: str) -> Answer | str:
        import httpx
        from httpx_sse import SSEError, connect_sse

        path = f"/api/sessions/{self.session_id}/messages"
        try:
            with connect_sse(self.client, "POST", path, json={"content": text}) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    return _refusal(source.response)
                for event in source.iter_sse():
                    data = event.json()
                    if event.event == "delta":
                        self.listen(data["text"])
                    elif event.event == "message":
                        self.listen(None)
                    elif event.event == "error":
                        return f"{data['detail']}"
                    elif event.event == "state":
                        self.meters = data["state"]["meters"]
                        return Answer(self.meters, data["outcome"])
        except (httpx.HTTPError, SSEError) as exc:
            return f"the reply was cut off ({exc}): say the same text again to retry"
        return "the reply ended early: say the same text again to retry"

    def end(self) -> GradeResult | str | None:
        path = f"/api/sessions/{self.session_id}"
        ended = self._request("POST", f"{path}/end")
        if ended.status_code == 409 and _code(ended) == "nothing_to_grade":
            self._request("DELETE", path)  # as the chat page's "leave without a grade"
            return None
        if ended.status_code >= 400:
            return _refusal(ended)
        grade = ended.json()
        if grade["status"] != "done":
            return f"the grade is {grade['status']}: {grade.get('error') or 'look again later'}"
        return GradeResult(
            score=grade["score"],
            passed=grade["passed"],
            summary=grade["summary"],
            criteria=[Criterion.model_validate(c) for c in grade["criteria"]],
            grader=grade["grader"],
            prompt_version=grade["prompt_version"],
        )

    def leave(self) -> str | None:
        return f"{str(self.client.base_url).rstrip('/')}/sessions/{self.session_id}"


class PractiseError(Exception):
    """The server could not be reached or refused, or the model failed to open: the command
    cannot go on."""


def _refusal(response: httpx.Response) -> str:
    from app.drills import error_text

    return f"the server answered {response.status_code}: {error_text(response)}"


def _code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


# ---------------------------------------------------------------- the terminal


class Printer:
    """Writes the client's messages as they arrive, each on its own `client>` line."""

    def __init__(self, prompt: str) -> None:
        self.prompt, self.open = prompt, False

    def __call__(self, piece: str | None) -> None:
        if piece is None:
            if self.open:
                typer.echo()
            self.open = False
            return
        if not self.open:
            typer.secho(self.prompt, fg=typer.colors.CYAN, nl=False)
            self.open = True
        typer.echo(piece, nl=False)


def _meter_line(before: dict[str, float], after: dict[str, float]) -> str:
    parts = []
    for name, value in after.items():
        change = value - before.get(name, value)
        shown = f" ({change:+.0f})" if round(change) else ""
        parts.append(f"{name} {value:.0f}{shown}")
    return "        [" + " · ".join(parts) + "]"


def _report(grade: GradeResult, t: Translator) -> None:
    verdict = t("report.passed") if grade.passed else t("report.failed")
    offline = grade.grader == HEURISTIC_GRADER
    grader = t("report.offline_grader") if offline else grade.grader
    typer.secho(f"\n{t('report.score')} {grade.score}/100 · {verdict} ({grader})", bold=True)
    if offline:
        typer.echo(t("report.heuristic_note"))
    labels = [t(f"verdict.{criterion.verdict}") for criterion in grade.criteria]
    width = max(map(len, labels), default=0)
    for criterion, label in zip(grade.criteria, labels, strict=True):
        typer.echo(f"\n  {label:<{width}}  {criterion.name}")
        if criterion.rationale:
            typer.echo(f"    {criterion.rationale}")
        for evidence in criterion.evidence:
            typer.echo(f'    #{evidence.seq} "{evidence.quote}"')
        if better := criterion.better_phrasing:
            # said instead of the quoted slip: without it, a suggestion beside a cue the trainee
            # wrote reads as advice to say what was said
            instead = f" ({t('report.instead_of', seq=better.seq)})" if better.seq else ""
            typer.echo(f"    {t('report.better')}{instead}: {better.suggestion}")


def _undecodable(text: str) -> bool:
    """A line whose bytes were not UTF-8: Python hands them over as lone surrogates, which
    neither the database nor a request body can hold."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def converse(conversation: Conversation, read: Callable[[str], str]) -> int:
    """The loop: the client opens, the trainee answers until the client ends the session,
    /end or end of input; then the report. Ctrl-C leaves without grading. The exit code.
    Labels are the pages' (app/templates/i18n.yaml), in the conversation's language."""
    from app.web.i18n import Translator

    t = Translator(conversation.lang)  # type: ignore[arg-type]
    printer = Printer(f"{t('chat.client').lower()}> ")
    you = f"{t('chat.you').lower()}> "
    name, title, role, goal = conversation.introduce()
    typer.secho(f"{name}: {title}", bold=True)
    typer.echo(f"{t('practice.role')}: {role}\n{t('chat.goal')}: {goal}")
    typer.echo(f"({t('terminal.keys', end=END_COMMAND)})\n")
    conversation.open(printer)
    try:
        while True:
            try:
                text = read(you).strip()
            except EOFError:
                typer.echo()
                break
            if text == END_COMMAND:
                break
            if not text:
                continue
            if _undecodable(text):
                typer.echo(f"error: {t('terminal.not_utf8')}", err=True)
                continue
            before = dict(conversation.meters)
            answer = conversation.say(text)
            printer(None)
            if isinstance(answer, str):
                typer.echo(f"error: {answer}", err=True)
                continue
            typer.echo(_meter_line(before, answer.meters))
            if answer.outcome is not None:
                outcome = t(f"outcome.{answer.outcome}")
                typer.secho(f"{t('report.outcome')}: {outcome}", bold=True)
                break
    except KeyboardInterrupt:
        url = conversation.leave()
        left = t("terminal.left_open", url=url) if url else t("terminal.left_in_memory")
        typer.echo(f"\n{left}", err=True)
        return 130
    grade = conversation.end()
    if grade is None:
        typer.echo(t("terminal.nothing_said"), err=True)
        return 0
    if isinstance(grade, str):
        typer.echo(f"error: {grade}", err=True)
        return 1
    _report(grade, t)
    return 0


@contextmanager
def _conversation(
    persona_id: str,
    lang: str,
    level: str,
    seed: int | None,
    engine: str | None,
    url: str | None,
    token: str | None,
) -> Iterator[Conversation]:
    if url:
        body: dict[str, Any] = {"persona_id": persona_id, "language": lang, "difficulty": level}
        body |= {"seed": seed} if seed is not None else {}
        body |= {"engine": engine} if engine else {}
        with common.remote(url, token) as client:
            yield OnServer(client, body)
        return
    from app.engines import build_engines

    catalog = common.catalog()
    persona = catalog.personas.get(persona_id)
    if persona is None:
        known = ", ".join(sorted(catalog.personas))
        raise typer.BadParameter(f"no persona '{persona_id}' (known: {known})")
    if level not in persona.difficulty:
        raise typer.BadParameter(f"--difficulty must be one of {', '.join(persona.difficulty)}")
    settings = common.settings()
    engines = build_engines(settings, catalog)
    name = engine or engines.default
    chosen = engines.get(name)
    if chosen is None:
        raise typer.BadParameter(f"the '{name}' engine is not configured here")
    seed = secrets.randbelow(2**31) if seed is None else seed
    yield InMemory(catalog, persona, chosen, lang, level, seed, settings.max_message_chars)


def _list_personas(lang: str, url: str | None, token: str | None) -> None:
    if url:
        with common.remote(url, token) as client:
            found = common.call(client, "GET", "/api/personas", params={"lang": lang}).json()
        rows = [(p["id"], p["name"], p["title"]) for p in found]
    else:
        rows = [(p.id, p.name(lang), p.title(lang)) for p in common.catalog().persona_list]  # type: ignore[arg-type]
    typer.echo(common.table(("persona", "name", "who"), rows))


def practise(
    persona: Annotated[
        str | None, typer.Argument(help="the client's persona id; leave it out for the list")
    ] = None,
    lang: LangOption = None,
    difficulty: Annotated[str, typer.Option(help="easy, medium or hard")] = "medium",
    seed: Annotated[
        int | None, typer.Option(min=0, max=2**31 - 1, help="same seed, same offline client")
    ] = None,
    engine: Annotated[
        str | None, typer.Option(help="offline or llm (default: as configured)")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", envvar="SPARRING_URL", help="a running server; the session is stored there"
        ),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="SPARRING_TOKEN", help="API token for --url")
    ] = None,
) -> None:
    """Talk with a client in the terminal, then read the report card."""
    language = common.language(lang)
    if persona is None:
        _list_personas(language, url, token)
        return

    try:
        with _conversation(persona, language, difficulty, seed, engine, url, token) as conversation:
            code = converse(conversation, input)
    except PractiseError as exc:
        common.fail(str(exc))
    raise typer.Exit(code)
