"""unlearn: base unlearning (A and B relabelled 0 at once), Layered Unlearning (A first, B kept; then B), and
base's unlearning phase run on the oracle (oracle_base: a reference with base's schedule)."""
from stages.base.common import stage
from stages.layered.common import train_stage

main = stage(lambda: train_stage("unlearn"))

if __name__ == "__main__":
    main()
