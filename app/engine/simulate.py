"""Play a persona in the terminal with scripted trainee turns, showing the hidden state.

    python -m app.engine.simulate yes-then-sells --lang en "first message" "second message"

For card authors: no database and no server, just the director and the offline actor.
"""

from __future__ import annotations

import argparse

from app.catalog import load_catalog
from app.engine.actors import OfflineActor, Reply
from app.engine.detectors import detect, move_ids
from app.engine.director import observe, opening


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("persona")
    parser.add_argument("turns", nargs="*")
    parser.add_argument("--lang", default="en", choices=["it", "en"])
    parser.add_argument("--difficulty", default="medium", choices=["easy", "medium", "hard"])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_intermixed_args()
    catalog = load_catalog()
    persona = catalog.personas[args.persona]
    actor = OfflineActor()
    state, directive = opening(persona, args.difficulty)

    def speak() -> None:
        replies = actor.reply(
            persona=persona,
            language=args.lang,
            state=state,
            directive=directive,
            history=[],
            seed=args.seed,
        )
        for item in replies:
            if isinstance(item, Reply):
                print(f"  CLIENT [{item.beat}]: {item.content}")

    speak()
    for text in args.turns:
        if state.status != "active":
            break
        print(f"\nTRAINEE: {text}")
        moves = move_ids(detect(text, args.lang, catalog.moves))
        state, directive = observe(catalog, persona, state, moves)
        meters = ", ".join(f"{k}={v:.0f}" for k, v in state.meters.items())
        print(f"  moves={sorted(moves)} trigger={directive.trigger} beat={directive.beat}")
        print(f"  meters: {meters} phase={state.phase} mood={state.mood}")
        speak()
    print(f"\nstatus={state.status} outcome={state.outcome} turns={state.turn}")


if __name__ == "__main__":
    main()
