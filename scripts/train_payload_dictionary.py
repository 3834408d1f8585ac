"""Train a zstd dictionary for stored raw payloads from the mock connectors' accounts.

    .venv/bin/python scripts/train_payload_dictionary.py --id 3 --seed 3 \
        webapp/services/ingestion/data/payload-dictionary-3.zstd

(Dictionary 2 was made the same way with --id 2 --seed 2, by the mock platforms before they
had their own category mixes and captions written like posts.)

The accounts come from a fixed random seed (not the ones `toker seed --seed 2026` makes), in
the platform mix seeding uses, each as of a day drawn from the --days before --today (as a
history's weekly syncs see them), as compact JSON the way services/ingestion/payloads.py packs
them. The dictionary learns the payloads' keys and the catalogue videos many accounts like, so
payloads from real platforms will compress less well with it: train a new dictionary on their
payloads then, under a new id (services/ingestion/payloads.py), and rows written with this one
stay readable.
"""

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

import orjson
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from webapp.services.ingestion.connectors import get_connector
from webapp.services.ingestion.platforms import PLATFORMS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--accounts", type=int, default=30_000, help="payloads to train on")
    parser.add_argument("--size", type=int, default=4 * 2**20, help="dictionary bytes")
    parser.add_argument("--id", type=int, default=1, help="the dictionary's id")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the accounts")
    parser.add_argument("--today", type=date.fromisoformat, default=date(2026, 12, 7))
    parser.add_argument("--days", type=int, default=120, help="the accounts' dates spread")
    args = parser.parse_args()
    rng = random.Random(f"payload-dictionary-{args.seed}")
    connectors = {platform: get_connector(platform) for platform in PLATFORMS}
    samples = []
    for _ in range(args.accounts):
        connector = connectors[rng.choice(PLATFORMS)]
        as_of = args.today - timedelta(days=rng.randrange(args.days))
        samples.append(orjson.dumps(connector.generate(connector.new_user_id(rng), as_of)))
    # Fixed parameters: optimising k and d takes minutes and gained nothing measurable here.
    trained = zstandard.train_dictionary(
        args.size, samples, k=2048, d=8, f=20, accel=1, dict_id=args.id, threads=2
    )
    args.output.write_bytes(trained.as_bytes())
    print(f"{args.output}: {len(trained.as_bytes()):,} bytes from {len(samples):,} payloads")


if __name__ == "__main__":
    main()
