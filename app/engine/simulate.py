"""Play a persona in the terminal with scripted trainee turns, showing the hidden state.

    python -m app.engine.simulate yes-then-sells --lang en "first message" "second message"

For card authors: no database and no server, just the director and the offline actor.
"""

from __future__ import annotations

import argparse

from app.catalog import load_catalog
from app.engine.actors import OfflineActor
from app.engine.script import play_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("persona")
    parser.add_argument("turns", nargs="*")
    parser.add_argument("--lang", default="en", choices=["it", "en"])
    parser.add_argument("--difficulty", default="medium", choices=["easy", "medium", "hard"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_intermixed_args()
    catalog = load_catalog()
    if args.persona not in catalog.personas:
        parser.error(
            f"unknown persona '{args.persona}'; known: {', '.join(sorted(catalog.personas))}"
        )
    script = play_script(
        catalog=catalog,
        persona=catalog.personas[args.persona],
        language=args.lang,
        difficulty=args.difficulty,
        seed=args.seed,
        turns=args.turns,
        actor=OfflineActor.for_catalog(catalog),
    )
    for reply in script.opening:
        print(f"  CLIENT [{reply.beat}]: {reply.content}")
    for turn in script.turns:
        print(f"\nTRAINEE: {turn.text}")
        meters = ", ".join(f"{k}={v:.0f}" for k, v in turn.meters.items())
        print(f"  moves={sorted(turn.moves)} trigger={turn.directive.trigger} beat={turn.beat}")
        print(f"  meters: {meters} phase={turn.state.phase} mood={turn.state.mood}")
        for reply in turn.replies:
            print(f"  CLIENT [{reply.beat}]: {reply.content}")
    last = script.turns[-1].state if script.turns else script.final
    print(f"\nstatus={last.status} outcome={last.outcome} turns={last.turn}")


if __name__ == "__main__":
    main()
